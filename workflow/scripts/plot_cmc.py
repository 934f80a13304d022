"""Figure: CMC curves of the closed-set mated searches per variant."""

from maskaudit.plots import cmc_curves, save
from maskaudit.progress import setup_logging
from maskaudit.protocol.files import read_scores
from maskaudit.stats.measures import identification_note

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
ranks, notes = {}, set()
for variant, path in zip(snakemake.params.variants, snakemake.input.identification):
    ident = read_scores(path)
    ranks[variant] = ident.mate_rank[ident.search == "mated"].to_numpy(dtype=float)
    notes.add(identification_note(ident))
note = "; ".join(sorted(n for n in notes if n))
save(cmc_curves(ranks, max_rank=snakemake.params.max_rank, note=note), snakemake.output.figure)
