"""Hostile input, class *vendors*: a cost plan that matches the run, and no credentials in the records.

Expected outcomes: the plan prices exactly the (vendor, dataset, variant) jobs the workflow will
run, ``masks.grid`` included (checked against Snakemake's own dry run); an endpoint written with
``user:password@`` is recorded without it.
"""

import re

from workflow_support import snakemake, write_config

from maskaudit.vendors.base import without_userinfo
from maskaudit.vendors.inputs import TABLE_KEYS, read_job_inputs


def _jobs(out, rule):
    """``{wildcards: input files}`` of every job of ``rule`` in a dry run's output."""
    jobs = {}
    for block in re.split(r"\n(?:local)?rule ", out)[1:]:
        if block.startswith(f"{rule}:"):
            wc = re.search(r"wildcards: (.*)", block)
            key = (
                tuple(sorted(tuple(kv.split("=", 1)) for kv in wc.group(1).split(", ")))
                if wc
                else ()
            )
            jobs[key] = re.search(r"input: (.*)", block).group(1).split(", ")
    return jobs


def test_the_plan_prices_exactly_the_jobs_the_workflow_plans_grid_included(tmp_path, monkeypatch):
    """The plan reads the table rule list_vendor_inputs writes: one row per compare_vendor job of the
    dry run, with the same files."""
    monkeypatch.setenv("FACE_APIKEY", "k")

    def edit(cfg):
        cfg["models"] = ["dlib", "azure"]
        cfg["vendors"]["azure"]["endpoint"] = "https://x.example"
        cfg["masks"]["grid"] = {"kinds": ["n95", "kn95"], "colours": ["blue", "#112233"]}

    write_config(tmp_path, edit)
    compare = _jobs(snakemake(tmp_path, "--dry-run", "vendor_comparisons").stdout, "compare_vendor")
    (listed,) = _jobs(
        snakemake(tmp_path, "--dry-run", "vendor_inputs").stdout, "list_vendor_inputs"
    ).values()
    for path in listed:  # stand-ins for the real inputs: only the listing rule runs
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    snakemake(tmp_path, "--allowed-rules=list_vendor_inputs", "results/comparisons/inputs.tsv")
    table = read_job_inputs(tmp_path / "results/comparisons/inputs.tsv", tmp_path)
    assert len(compare) == 1 + 3 + 4  # baseline, three variants, the 2 x 2 grid
    assert {(dict(k)["dataset"], dict(k)["variant"]) for k in compare} == set(table)
    for key, inputs in compare.items():
        wc = dict(key)
        assert wc["model"] == "azure"
        paths = {k: p for k, p in table[(wc["dataset"], wc["variant"])].items() if k in TABLE_KEYS}
        assert {str(p.relative_to(tmp_path)) for p in paths.values()} <= set(inputs)
        assert ("images" in paths) == (wc["variant"] != "none")


def test_endpoint_credentials_never_reach_the_sidecar():
    """Outcome: the adapter's recorded endpoint, and every string of a sidecar, lose ``user:secret@``."""
    from maskaudit.vendors.facex import FaceX

    adapter = FaceX({"base_url": "https://user:s3cret@fx.example:8443/api"}, client=None)
    assert adapter.model_info()["endpoint"] == "https://fx.example:8443/api"
    sidecar = {
        "model_info": {"endpoint": "http://a:b@h/x"},
        "unavailable_reason": "GET https://u:p@h/y failed",
        "n": 3,
        "list": ["ftp://only-user@h/z", "mailto:x@y.z"],
    }
    clean = without_userinfo(sidecar)
    assert "b@" not in str(clean) and ":p@" not in str(clean) and "only-user" not in str(clean)
    assert (
        clean["unavailable_reason"] == "GET https://h/y failed"
        and clean["list"][1] == "mailto:x@y.z"
    )


def test_a_time_out_does_not_suggest_lowering_the_rate(tmp_path):
    """Outcome: the give-up message blames the rate only for throttling, the network for time-outs."""
    import pytest

    from maskaudit.vendors.budget import Cap, Ledger
    from maskaudit.vendors.cache import ResponseCache
    from maskaudit.vendors.client import VendorClient
    from maskaudit.vendors.errors import Throttled, Transient, VendorError
    from maskaudit.vendors.limits import TokenBucket

    def client():
        return VendorClient(
            "facex",
            cache=ResponseCache(tmp_path),
            ledger=Ledger(tmp_path),
            cap=Cap(None, None),
            bucket=TokenBucket(1000, 10),
            max_retries=1,
            sleep=lambda s: None,
        )

    def timeout():
        raise Transient("connection problem with https://fx.example: ReadTimeout")

    def throttle():
        raise Throttled("HTTP 429")

    with pytest.raises(VendorError) as err:
        client().call("compare", timeout)
    assert "rate_per_s" not in str(err.value) and "check the network" in str(err.value)
    with pytest.raises(VendorError, match="lower vendors.facex.rate_per_s"):
        client().call("compare", throttle)


def test_a_run_with_zero_usable_systems_fails_saying_why_each_was_skipped(tmp_path, monkeypatch):
    """Outcome: Snakemake stops before any job, naming each skipped vendor and its missing credential."""
    for var in ("FACEX_USER_ID", "FACEX_BASE_URL", "FACE_APIKEY", "FACE_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)

    def edit(cfg):
        cfg["models"] = ["facex", "azure"]

    write_config(tmp_path, edit)
    proc = snakemake(tmp_path, "--dry-run", check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert (
        "no system left to audit" in text
        and "'facex': missing FACEX_USER_ID" in text
        and "'azure':" in text
    )
