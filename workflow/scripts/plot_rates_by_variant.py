"""Figure: re-identification rate, FNMR, FMR and rank-1 by mask variant and race, with intervals."""

from maskaudit.plots import rates_by_variant, save
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
save(rates_by_variant(read_tsv(snakemake.input.rates)), snakemake.output.figure)
