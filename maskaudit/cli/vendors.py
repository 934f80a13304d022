"""``maskaudit vendors``: plan the cost of the commercial APIs, check credentials, sweep orphans.

``plan``     calls and estimated USD per vendor, dataset and variant (the comparisons' and the explanation
             maps'), after cache hits; sends nothing.
``check``    which vendors have credentials in the standard places (never prints a secret; no calls).
``cleanup``  delete galleries a killed run left behind (``maskaudit-*``); run it when no audit runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _load_config(path: str) -> dict:
    from maskaudit.config import ConfigError, load_schema, validate_config

    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    try:
        return validate_config(raw, load_schema(REPO / "workflow/schemas/config.schema.yaml"))
    except ConfigError as exc:
        raise SystemExit(f"maskaudit vendors: {exc}") from None


def _vendors(config: dict, only: list[str] | None) -> list[str]:
    from maskaudit.vendors import VENDORS

    listed = [m for m in config["models"] if m in VENDORS]
    chosen = [v for v in listed if not only or v in only]
    if not chosen:
        print(
            f"maskaudit vendors: no commercial system selected (add {', '.join(VENDORS[:-1])} or {VENDORS[-1]} "
            "to 'models' in the config, or check --vendor)",
            file=sys.stderr,
        )
    return chosen


def cmd_plan(args) -> int:
    from maskaudit.vendors.inputs import read_job_inputs
    from maskaudit.vendors.plan import format_plan, plan_rows

    config = _load_config(args.configfile)
    vendors = _vendors(config, args.vendor)
    if not vendors:
        return 1
    workdir = Path(args.directory)
    table = workdir / args.inputs
    if not table.is_file():
        print(
            f"maskaudit vendors plan: {table} is missing (the vendor jobs and their inputs, as the workflow "
            "plans them). Fix: run `snakemake --cores all vendor_inputs` first (it sends nothing)",
            file=sys.stderr,
        )
        return 2
    try:
        rows = plan_rows(config, vendors, read_job_inputs(table, workdir), workdir)
    except FileNotFoundError as exc:
        print(f"maskaudit vendors plan: {exc}", file=sys.stderr)
        return 2
    print(format_plan(rows))
    return 0


def cmd_check(args) -> int:
    from maskaudit.vendors import VENDORS
    from maskaudit.vendors.registry import credentials_problem

    config = _load_config(args.configfile)
    for vendor in args.vendor or VENDORS:
        problem = credentials_problem(vendor, config["vendors"][vendor])
        listed = "listed in models" if vendor in config["models"] else "not in models"
        print(f"{vendor}: {'credentials found' if problem is None else problem} ({listed})")
    return 0


def cmd_cleanup(args) -> int:
    from maskaudit.vendors.cleanup import sweep
    from maskaudit.vendors.registry import adapter_class, credentials_problem

    config = _load_config(args.configfile)
    cache_dir = Path(args.directory) / config["vendors"]["cache_dir"]
    status = 0
    for vendor in _vendors(config, args.vendor):
        if not adapter_class(vendor).has_search:
            continue  # no galleries
        problem = credentials_problem(vendor, config["vendors"][vendor])
        if problem:
            print(f"{vendor}: skipped ({problem})")
            continue
        try:
            done = sweep(vendor, config["vendors"][vendor], cache_dir)
        except Exception as exc:  # report and go on with the other vendors
            print(f"{vendor}: cleanup failed: {exc}", file=sys.stderr)
            status = 1
            continue
        print(
            f"{vendor}: {len(done)} gallery(ies) swept" + "".join(f"\n  {n}: {s}" for n, s in done)
        )
    return status


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "vendors",
        help="commercial APIs: plan the cost, check credentials, clean up",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="vendors_command", metavar="ACTION", required=True)
    for name, func, text in [
        ("plan", cmd_plan, "calls and estimated cost per vendor; sends nothing"),
        ("check", cmd_check, "which vendors have credentials (no calls, no secrets printed)"),
        ("cleanup", cmd_cleanup, "delete galleries left by a killed run"),
    ]:
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument(
            "--configfile",
            default="config/config.yaml",
            help="the study's config (default: %(default)s)",
        )
        p.add_argument(
            "--directory",
            default=".",
            help="the workflow's working directory (default: %(default)s)",
        )
        p.add_argument("--vendor", action="append", help="only this vendor (repeatable)")
        if name == "plan":
            p.add_argument(
                "--inputs",
                default="results/comparisons/inputs.tsv",
                help="the vendor jobs' inputs, written by `snakemake vendor_inputs`, relative to "
                "--directory (default: %(default)s)",
            )
        p.set_defaults(func=func)
