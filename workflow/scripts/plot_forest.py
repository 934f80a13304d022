"""Figure: the group differentials (worst - best) beside their mean under shuffled group labels."""

from maskaudit.plots import forest, save
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
wc = snakemake.wildcards
diff = read_tsv(snakemake.input.differentials)
diff = diff[
    (diff.model == wc.model)
    & (diff.dataset == wc.dataset)
    & diff.difference.notna()
    & (diff.threshold.isin(["default", "-"]))
]
save(forest(diff), snakemake.output.figure)
