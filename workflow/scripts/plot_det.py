"""Figure: DET curves per race group (mated vs matched impostors), one panel per variant."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.plots import det_curves, save
from maskaudit.progress import setup_logging
from maskaudit.protocol.files import load_impostors, read_scores
from maskaudit.stats.curves import group_det
from maskaudit.stats.groups import identity_groups

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
inp = snakemake.input
manifest = read_manifest(inp.manifest)
curves = {}
for variant, ver, imp in zip(snakemake.params.variants, inp.verification, inp.impostors):
    impostors = load_impostors(imp)
    groups = identity_groups(manifest, impostors["identity"].astype(str)).race
    curves[variant] = group_det(
        read_scores(ver, ["comparison", "probe_subject", "score"]), impostors, groups
    )
save(det_curves(curves), snakemake.output.figure)
