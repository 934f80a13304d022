"""Calibration study of the predeclared tests: size, interval coverage, power and sign.

    PYTHONPATH=. python benchmarks/calibrate_tests.py [--audits 500] [--bootstrap 999] [--permutations 999]
        [--out benchmarks/results/calibrate_tests.tsv]

Simulates whole audits with known truth (maskaudit/stats/calibration.py: groups of 20, 35 and 60
identities, 2-6 images per identity, a latent identity effect shared by both conditions) and runs
each through maskaudit.stats.hypotheses (predeclared primary tests, identity bootstrap, studentised
permutation tests, Holm per audit, verdicts). Scenarios: ``null`` (no mask effect, no group
difference), ``mask_only`` (mask raises every group's FNMR from 0.05 to 0.30: interactions null),
``group_main`` (groups differ unmasked, 0.02/0.05/0.10, and the mask adds 0.20 to each: interactions
null although the groups differ), ``planted`` (group C's masked FNMR 0.45 instead of 0.30) and
``null_small_groups`` (12/25/40 identities, guard lowered to 10: why the default guard is 20).
Prints the summary table (the README's) and the wall time; writes it as TSV. Asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pandas as pd

from maskaudit.stats.calibration import run_study, summarise
from maskaudit.stats.hypotheses import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--audits", type=int, default=500)
    ap.add_argument("--bootstrap", type=int, default=999)
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--out", default="benchmarks/results/calibrate_tests.tsv")
    args = ap.parse_args()
    settings = Settings(
        measures=("fnmr",),
        attributes=("race",),
        exploratory_attributes=(),
        n_boot=args.bootstrap,
        n_perm=args.permutations,
        alpha=args.alpha,
        min_identities=20,
    )
    start = time.perf_counter()
    raw = run_study(args.audits, settings)
    wall = time.perf_counter() - start
    table = summarise(raw, args.alpha)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, sep="\t", index=False, float_format="%.4f")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(4).to_string(index=False))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"\n{args.audits} audits x {raw.scenario.nunique()} scenarios, {len(raw)} tests, "
        f"{args.bootstrap} bootstrap / {args.permutations} permutations: {wall:.0f} s wall, "
        f"{usage.ru_utime + usage.ru_stime:.0f} s CPU (one process), peak RSS {usage.ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
