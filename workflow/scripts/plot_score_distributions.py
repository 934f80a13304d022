"""Figure: re-identification, mated and impostor similarities per variant, with the global thresholds."""

import pandas as pd

from maskaudit.plots import save, score_distributions
from maskaudit.progress import setup_logging
from maskaudit.protocol.files import load_impostors, read_scores
from maskaudit.protocol.stage import read_thresholds

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
inp = snakemake.input
columns = ["probe_mask", "comparison", "score"]
reid = pd.concat([read_scores(p, columns) for p in inp.reidentification], ignore_index=True)
mated = pd.concat([read_scores(p, columns) for p in inp.verification], ignore_index=True)
impostors = {
    v: load_impostors(p)["sample_score"] for v, p in zip(snakemake.params.variants, inp.impostors)
}
save(
    score_distributions(reid, mated, impostors, read_thresholds(inp.thresholds)),
    snakemake.output.figure,
)
