"""Figure: genuine and impostor 1:1 scores per mask variant, with the operating threshold."""

import pandas as pd

from maskaudit.plots import save, score_distributions
from maskaudit.progress import setup_logging
from maskaudit.scoring import read_scores

setup_logging(snakemake.log[0])
scores = pd.concat([read_scores(p) for p in snakemake.input.scores], ignore_index=True)
threshold = -float(scores.threshold.iloc[0])  # similarity scale
save(score_distributions(scores, threshold), snakemake.output.figure)
