# Two-command start on a fresh Linux machine with Python 3.11 (no GPU, no conda):
#   make demo   build the venv, run the demo audit, write results/audit.html (findings) and results/report.html
#   make test   build the venv, run the unit and integration tests
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= all

.PHONY: setup demo report test lint bench bench-scale clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-nodeps.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

demo: setup
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	@echo "Tables: results/tables/   Figures: results/figures/   Report: results/report.html"
	@echo "Findings (start here; standalone, offline): results/audit.html"

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/snakemake --lint

bench: setup
	$(BIN)/snakemake --cores $(CORES) results/datasets/demo/manifest.tsv results/faces/demo/landmarks.npz
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/snakemake --cores $(CORES) results/masked/demo/surgical-blue/manifest.tsv
	$(BIN)/python benchmarks/bench_deepface.py
	$(BIN)/python benchmarks/bench_masks.py

# The study at scale (~45 min on 2 cores): the 3,000-image stress study through Snakemake against the
# bare detector and forward passes, each model's own cost, and the projection of the full study.
bench-scale: setup
	$(BIN)/snakemake --cores $(CORES) results/masked/demo/none/manifest.tsv
	$(BIN)/maskaudit weights fetch dlib --alignment end_to_end
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_workflow.py
	$(BIN)/python benchmarks/project_study.py

clean:
	rm -rf results logs .snakemake
