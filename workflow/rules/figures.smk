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


def plot_rule(figure_name):
    """Rule `plot_<name>`. A function, not a loop body: `script:` is evaluated again when the job
    runs, and must then still see this figure's name, not the loop's last one."""
    entry = FIGURES[figure_name]

    rule:
        name:
            f"plot_{figure_name}"
        input:
            **entry["input"],
        output:
            figure=figure_output(figure_name),
        log:
            f"logs/plot_{figure_name}/{figure_stem(figure_name)}.log",
        conda:
            f"../envs/{entry['env']}.yaml"
        threads: 1
        resources:
            mem_mb=scaled(*entry["mem_mb"]),
            runtime=scaled(*entry["runtime"]),
        params:
            **entry["params"],
            code=code_version(f"plot_{figure_name}.py"),
        script:
            f"../scripts/plot_{figure_name}.py"


for _name in FIGURES:
    plot_rule(_name)
