"""Figure: re-identification rate by mask colour and race group, per mask kind, against the unmasked rate."""

from maskaudit.plots import mask_colour, save
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
save(mask_colour(read_tsv(snakemake.input.rates)), snakemake.output.figure)
