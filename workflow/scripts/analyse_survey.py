"""Human accuracy, humans against every system, agreement and group gaps on the survey's trials."""

from pathlib import Path

from maskaudit.progress import setup_logging
from maskaudit.survey.analysis import Analysis, read_responses
from maskaudit.tsv import read_tsv, write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
stats, survey = snakemake.params.stats, snakemake.params.survey
machines = {Path(p).stem: read_tsv(p, dtype={"choice": str}) for p in snakemake.input.machines}
analysis = Analysis(
    read_tsv(snakemake.input.key, dtype=str),
    read_responses(snakemake.input.responses),
    machines,
    dataset=survey["dataset"],
    seed=snakemake.params.seed,
    n_boot=stats.n_boot,
    n_perm=stats.n_perm,
    level=stats.level,
    min_attention=survey["min_attention"],
    min_identities=stats.min_identities,
)
for name, table in analysis.tables().items():
    write_tsv(table, snakemake.output[name])
