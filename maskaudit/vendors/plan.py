"""``maskaudit vendors plan``: calls and estimated cost per vendor before anything is sent.

Reads the same inputs as the ``compare_vendor`` jobs (the table ``snakemake vendor_inputs`` writes:
every (dataset, variant) the workflow plans and its files), hashes the images exactly as they would be
sent, looks every comparison up in the response cache, and prices what is left at list prices.
Makes no network request and needs no credentials.

With ``explain.activate`` and ``explain.vendors`` on, each row also counts the ``explain_vendor``
job of the same (vendor, dataset, variant) (:meth:`maskaudit.explain.vendor.Photos.plan`): each photo
of the explain sample costs its ``K + 1`` requests (Azure ``2K + 3``) when its unperturbed answer is
not cached, nothing when the vendor is known to find no face in it, and otherwise the copies whose
answers are missing (built and hashed exactly as sent). It is exact when the vendor finds a face in
every photo it is first asked about (else that photo costs 1 request, not ``K + 1``; Azure: a copy
without a face costs its detect only).
"""

from __future__ import annotations

from pathlib import Path

from maskaudit.vendors.inputs import TABLE_KEYS, load_tables
from maskaudit.vendors.pairs import vendor_pairs
from maskaudit.vendors.prices import price
from maskaudit.vendors.registry import credentials_problem, open_adapter
from maskaudit.vendors.run import VariantJob


def plan_rows(
    config: dict, vendors: list[str], jobs: dict[tuple[str, str], dict[str, Path]], workdir: Path
):
    """One dict per (vendor, dataset, variant) of ``jobs`` (:func:`maskaudit.vendors.inputs.read_job_inputs`);
    raises FileNotFoundError naming missing inputs."""
    missing = [str(p) for paths in jobs.values() for p in paths.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(
            "the plan needs the vendor jobs' inputs, missing: "
            + ", ".join(missing[:5])
            + (" ..." if len(missing) > 5 else "")
            + ". Fix: run `snakemake --cores all vendor_inputs` first (it sends nothing)"
        )
    cache_dir = workdir / config["vendors"]["cache_dir"]
    rows = []
    for vendor in vendors:
        settings = config["vendors"][vendor]
        adapter = open_adapter(vendor, settings, cache_dir)
        for (dataset, variant), paths in jobs.items():
            probes, gallery = load_tables(**{k: v for k, v in paths.items() if k in TABLE_KEYS})
            pairs = vendor_pairs(
                gallery.image_id,
                gallery.identity,
                seed=config["seed"],
                dataset=dataset,
                impostors_per_probe=config["vendors"]["impostors_per_probe"],
                baseline=variant == "none",
            )
            job = VariantJob(
                adapter,
                probes,
                gallery,
                pairs,
                identification=settings["identification"],
                top_k=settings["top_k"],
            )
            row = {
                "dataset": dataset,
                "variant": variant,
                **job.plan(),
                "explain_calls": 0,
                "explain_usd": 0.0,
                "explain_requests": {},
            }
            if "explain_images" in paths:
                requests = explain_requests(config, adapter, paths, dataset, gallery)
                row.update(
                    explain_requests=requests,
                    explain_calls=sum(requests.values()),
                    explain_usd=round(sum(n * price(vendor, op) for op, n in requests.items()), 6),
                )
            rows.append(row)
        calls, usd = adapter.client.ledger.spent(vendor)
        for row in rows:
            if row["vendor"] == vendor:
                row.update(
                    spent_calls=calls,
                    spent_usd=usd,
                    max_calls=settings["max_calls"],
                    max_usd=settings["max_usd"],
                    credentials=credentials_problem(vendor, settings) or "ok",
                )
    return rows


def explain_requests(config: dict, adapter, paths: dict[str, Path], dataset: str, gallery) -> dict:
    """Requests by operation the ``explain_vendor`` job of (dataset, variant) would send now (``paths``:
    its row of the job table, with ``landmarks``, ``explain_baseline`` and ``explain_images``)."""
    from maskaudit.detect import load_landmarks
    from maskaudit.explain.run import sample_images, settings_for
    from maskaudit.explain.vendor import Photos
    from maskaudit.masking import read_variant_manifest, stored_landmarks
    from maskaudit.models import get_card

    card = get_card(adapter.vendor)
    settings = settings_for(card, config["explain"])
    landmarks = load_landmarks(paths["landmarks"])
    baseline = read_variant_manifest(paths["explain_baseline"])
    sample = sample_images(
        baseline,
        stored_landmarks(baseline, landmarks),
        config["explain"]["faces"],
        settings.seed,
        dataset,
    )
    table = read_variant_manifest(paths["explain_images"])
    return Photos(
        adapter,
        table,
        gallery,
        stored_landmarks(table, landmarks),
        sample,
        settings,
        card.input_size,
        dataset,
    ).plan()


def format_plan(rows: list[dict]) -> str:
    lines = [
        "| vendor | dataset | variant | pairs | calls to send | est. USD | 1:N | + matrix calls | map calls | "
        "map USD |",
        "|---|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['vendor']} | {r['dataset']} | {r['variant']} | {r['pairs_sendable']} | {r['n_calls']} | "
            f"{r['usd']:.4f} | {r['identification']} | {r['matrix_extra_calls']} | {r['explain_calls']} | "
            f"{r['explain_usd']:.4f} |"
        )
    lines += [
        "",
        "| vendor | calls to send | est. USD | spent so far (calls / USD) | caps (calls / USD) | "
        "within caps | credentials |",
        "|---|---:|---:|---|---|---|---|",
    ]
    for vendor in dict.fromkeys(r["vendor"] for r in rows):
        mine = [r for r in rows if r["vendor"] == vendor]
        calls = sum(r["n_calls"] + r["explain_calls"] for r in mine)
        usd = sum(r["usd"] + r["explain_usd"] for r in mine)
        r0 = mine[0]
        ok = (r0["max_calls"] is None or r0["spent_calls"] + calls <= r0["max_calls"]) and (
            r0["max_usd"] is None or r0["spent_usd"] + usd <= r0["max_usd"] + 1e-12
        )
        lines.append(
            f"| {vendor} | {calls} | {usd:.4f} | {r0['spent_calls']} / {r0['spent_usd']:.4f} | "
            f"{r0['max_calls']} / {r0['max_usd']} | {'yes' if ok else 'NO: raise the cap or the run stops'} | "
            f"{r0['credentials']} |"
        )
    lines += [
        "",
        f"Prices: list prices as of {rows[0]['prices_version'] if rows else '?'} (maskaudit/vendors/prices.py); "
        "'+ matrix calls' are sent only if the caps still allow them after the rest; 'map calls' are the "
        "explanation maps' (explain.vendors), included in the per-vendor totals.",
    ]
    return "\n".join(lines)
