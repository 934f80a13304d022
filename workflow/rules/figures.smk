# Figures: where people would rather look than read. One rule `plot_<name>` per entry of FIGURES
# (workflow/rules/common.smk), running workflow/scripts/plot_<name>.py.


def figure_output(name):
    """The figure file, in `snakemake --report` when the entry has a label."""
    entry, path = FIGURES[name], figure_path(name)
    if entry["label"] is None:
        return path
    return report(
        path,
        caption=f"../report/{name}.rst",
        category="Figures",
        subcategory="{dataset}",
        labels={
            "model": "{model}" if entry["per"] == "model" else "all",
            "figure": entry["label"],
        },
    )


for _name, _entry in FIGURES.items():

    rule:
        name:
            f"plot_{_name}"
        input:
            **_entry["input"],
        output:
            figure=figure_output(_name),
        log:
            f"logs/plot_{_name}/{figure_stem(_name)}.log",
        conda:
            f"../envs/{_entry['env']}.yaml"
        threads: 1
        resources:
            mem_mb=scaled(*_entry["mem_mb"]),
            runtime=scaled(*_entry["runtime"]),
        params:
            **_entry["params"],
            code=code_version(f"plot_{_name}.py"),
        script:
            f"../scripts/plot_{_name}.py"
