"""The ``vendors:`` config section: per-vendor settings, which listed vendors can run, what the rule tracks."""

from __future__ import annotations

import sys

from maskaudit.vendors import VENDORS
from maskaudit.vendors.registry import credentials_problem

# Settings that change what a vendor answers (tracked by Snakemake as params: editing one reruns the
# vendor's jobs, from the cache where possible). Caps, rates and retries only change how calls are sent.
RESULT_KEYS = (
    "region",
    "endpoint_url",
    "endpoint",
    "api_version",
    "detection_model",
    "recognition_model",
    "base_url",
    "identification",
    "top_k",
)


def vendor_settings(config: dict, vendor: str) -> dict:
    return dict(config["vendors"][vendor])


def result_settings(config: dict, vendor: str) -> dict:
    s = vendor_settings(config, vendor)
    return {k: s[k] for k in RESULT_KEYS if k in s}


def usable_models(config: dict, out=None) -> list[str]:
    """``config['models']`` minus the vendors whose credentials are missing, each skipped with a message.

    When no system is left, :class:`maskaudit.config.ConfigError` says why each was skipped: a run
    that audits nothing must fail, not succeed with empty tables."""
    kept, skipped = [], []
    for model in config["models"]:
        if model in VENDORS:
            problem = credentials_problem(model, vendor_settings(config, model))
            if problem:
                print(
                    f"maskaudit: skipping vendor '{model}': {problem}. The rest of the audit runs.",
                    file=out or sys.stderr,
                )
                skipped.append(f"'{model}': {problem}")
                continue
        kept.append(model)
    if not kept:
        from maskaudit.config import ConfigError

        raise ConfigError(
            "no system left to audit: every model in 'models' was skipped:\n  - "
            + "\n  - ".join(skipped)
            + "\nFix: provide the credentials named above, or add an "
            "embedding model (e.g. dlib) to 'models'"
        )
    return kept
