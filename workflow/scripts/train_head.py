"""Train one head (base system x loss) on the base's cached masked/unmasked pairs; backbone frozen."""

import json
import logging
import os

from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p, inp = snakemake.params, snakemake.input
if p.device == "cpu":
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before torch is imported

from maskaudit.datasets.manifest import read_manifest  # noqa: E402
from maskaudit.mitigation.data import load_pairs, read_split, subset  # noqa: E402
from maskaudit.mitigation.head import save_checkpoint  # noqa: E402
from maskaudit.mitigation.train import pick_device, train_head  # noqa: E402
from maskaudit.tsv import write_tsv  # noqa: E402

manifest = read_manifest(inp.manifest)
split = read_split(inp.split)
pairs = load_pairs(
    inp.unmasked, dict(zip(p.variants, inp.masked)), dict(zip(manifest.image_id, manifest.identity))
)
train, val = (subset(pairs, split.identity[split.split == s]) for s in ("train", "val"))
device = pick_device(p.device)
weights, curve, info = train_head(
    train, val, p.loss, p.settings, seed=p.seed, device=device, threads=snakemake.threads
)
config = {
    "head": snakemake.wildcards.model,
    "base": p.base,
    "loss": p.loss,
    "dataset": p.dataset,
    "variants": list(p.variants),
    "seed": p.seed,
    "settings": p.settings,
    "device": device,
    "best_epoch": info["best_epoch"],
    "best_val_loss": info["best_val_loss"],
    "train_pairs": info["train_pairs"],
    "val_pairs": info["val_pairs"],
    "dropped_pairs": pairs.attrs["dropped"],
}
save_checkpoint(snakemake.output.checkpoint, weights, config)
write_tsv(curve, snakemake.output.curve)
with open(snakemake.output.config, "w") as f:
    f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
logging.info(
    "%s: %d train / %d val pairs, %.0f samples/s",
    p.loss,
    len(train),
    len(val),
    info["samples_per_s"],
)
