"""``maskaudit vendors plan``: calls and estimated cost per vendor before anything is sent.

Reads the same inputs as the ``compare_vendor`` jobs (the table ``snakemake vendor_inputs`` writes:
every (dataset, variant) the workflow plans and its files), hashes the images exactly as they would be
sent, looks every comparison up in the response cache, and prices what is left at list prices.
Makes no network request and needs no credentials.
"""

from __future__ import annotations

from pathlib import Path

from maskaudit.vendors.inputs import load_tables
from maskaudit.vendors.pairs import vendor_pairs
from maskaudit.vendors.registry import credentials_problem, open_adapter
from maskaudit.vendors.run import VariantJob


def plan_rows(config: dict, vendors: list[str], jobs: dict[tuple[str, str], dict[str, Path]], workdir: Path):
    """One dict per (vendor, dataset, variant) of ``jobs`` (:func:`maskaudit.vendors.inputs.read_job_inputs`);
    raises FileNotFoundError naming missing inputs."""
    missing = [str(p) for paths in jobs.values() for p in paths.values() if not p.exists()]
    if missing:
        raise FileNotFoundError("the plan needs the vendor jobs' inputs, missing: " + ", ".join(missing[:5])
                                + (" ..." if len(missing) > 5 else "")
                                + ". Fix: run `snakemake --cores all vendor_inputs` first (it sends nothing)")
    cache_dir = workdir / config["vendors"]["cache_dir"]
    rows = []
    for vendor in vendors:
        settings = config["vendors"][vendor]
        adapter = open_adapter(vendor, settings, cache_dir)
        for (dataset, variant), paths in jobs.items():
            probes, gallery = load_tables(**paths)
            pairs = vendor_pairs(gallery.image_id, gallery.identity, seed=config["seed"], dataset=dataset,
                                 impostors_per_probe=config["vendors"]["impostors_per_probe"],
                                 baseline=variant == "none")
            job = VariantJob(adapter, probes, gallery, pairs, identification=settings["identification"],
                             top_k=settings["top_k"])
            rows.append({"dataset": dataset, "variant": variant, **job.plan()})
        calls, usd = adapter.client.ledger.spent(vendor)
        for row in rows:
            if row["vendor"] == vendor:
                row.update(spent_calls=calls, spent_usd=usd, max_calls=settings["max_calls"],
                           max_usd=settings["max_usd"], credentials=credentials_problem(vendor, settings) or "ok")
    return rows


def format_plan(rows: list[dict]) -> str:
    lines = ["| vendor | dataset | variant | pairs | calls to send | est. USD | 1:N | + matrix calls |",
             "|---|---|---|---:|---:|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['vendor']} | {r['dataset']} | {r['variant']} | {r['pairs_sendable']} | {r['n_calls']} | "
                     f"{r['usd']:.4f} | {r['identification']} | {r['matrix_extra_calls']} |")
    lines += ["", "| vendor | calls to send | est. USD | spent so far (calls / USD) | caps (calls / USD) | "
              "within caps | credentials |", "|---|---:|---:|---|---|---|---|"]
    for vendor in dict.fromkeys(r["vendor"] for r in rows):
        mine = [r for r in rows if r["vendor"] == vendor]
        calls = sum(r["n_calls"] for r in mine)
        usd = sum(r["usd"] for r in mine)
        r0 = mine[0]
        ok = ((r0["max_calls"] is None or r0["spent_calls"] + calls <= r0["max_calls"])
              and (r0["max_usd"] is None or r0["spent_usd"] + usd <= r0["max_usd"] + 1e-12))
        lines.append(f"| {vendor} | {calls} | {usd:.4f} | {r0['spent_calls']} / {r0['spent_usd']:.4f} | "
                     f"{r0['max_calls']} / {r0['max_usd']} | {'yes' if ok else 'NO: raise the cap or the run stops'} | "
                     f"{r0['credentials']} |")
    lines += ["", f"Prices: list prices as of {rows[0]['prices_version'] if rows else '?'} (maskaudit/vendors/prices.py); "
              "'+ matrix calls' are sent only if the caps still allow them after the rest."]
    return "\n".join(lines)
