"""Figure: demographic clustering index C_k per principal component of the subject x subject matrix."""

from maskaudit.plots import clustering, save
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
save(clustering(read_tsv(snakemake.input.clustering)), snakemake.output.figure)
