# What each job needs: threads, memory (mem_mb) and wall time (runtime, minutes).
#
# Rules state their intrinsic needs through these functions; everything site-specific (partition,
# account, GPU type, caps) lives in profiles/. Costs that grow with the data grow with the job's
# input size (the manifests, landmarks and embedding caches a job reads grow linearly with the
# number of images), and attempt n of a job asks for n times as much (`--retries N`), so a job
# SLURM killed for memory or time asks for more next time. Locally, `runtime` is ignored and
# `mem_mb` only limits concurrency when `--resources mem_mb=...` is given.
#
# A GPU is requested only through the model card (`gpu=get_model_gpu` in embedding.smk).

import math


def scaled(base, per_input_mb=0.0, per=None):
    """A resource function: ``(base + per_input_mb * input size in MB / share) * attempt``, rounded
    up, where ``share`` is the integer wildcard named by ``per`` (a job that does one of N shards of
    its input), else 1."""

    def resource(wildcards, input, attempt):
        share = int(wildcards[per]) if per else 1
        return int(math.ceil((base + per_input_mb * input.size_mb / share) * attempt))

    return resource
