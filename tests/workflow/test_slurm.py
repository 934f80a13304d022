"""Cluster runs: killed runs resume, and the demo audit runs through a real SLURM cluster.

Resuming, locally (`--cores 1`): the demo is SIGKILLed together with its jobs while an embedding
job runs, as a crashed machine or an OOM kill would. A partially written cache is left where the
killed job was writing. Then, after `--unlock` (a hard kill may leave the lock behind): a plain
rerun refuses, naming the incomplete file; `--rerun-incomplete` finishes the audit; the killed
cache is recomputed and valid; and every output that was complete before the kill keeps its mtime.

SLURM: `tests/support/localslurm.py` starts munged, MariaDB, slurmdbd, slurmctld and slurmd from Debian's
packages (`.ci/run` installs them). The demo runs with `--executor slurm --workflow-profile`
pointing at a copy of `profiles/slurm/` whose <placeholders> are filled with the test cluster's
account and partitions (`cpu` and `gpu` on the same node, the latter with two GPUs) and whose
conda deployment is dropped (no conda here); nothing else of the profile changes. The submitting
Snakemake is SIGKILLed during the embedding stage (a lost login session), its jobs are cancelled
with scancel as the README says, and the run is resumed with `--rerun-incomplete`.

Checked: every non-local job went through sbatch, local rules never did; the cheap steps of each
(model, dataset) went as one group job (the profile's `groups`), sized within its mem_mb pool; what
SLURM recorded for each other job (partition, memory, CPUs, time limit, GPUs; read back with `sacct`)
is what Snakemake's rules declared; a job asking for a GPU lands in the GPU partition with gres/gpu, all others in the
CPU partition without; the resumed run recomputes nothing that had finished; and every table
equals the local run's byte for byte.

The demo has no GPU model (dlib runs on CPU), so the runs override the `gpu` resource of the
unmasked baseline's embedding job (`--set-resources`) to stand in for a GPU model card; the
routing itself is the profile's. The SLURM run works in a thread while the local run goes on.
"""

from __future__ import annotations

import base64
import getpass
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import localslurm
import pytest
import yaml
from conftest import REPO
from workflow_support import seed_downloads

pytestmark = pytest.mark.integration

VARIANTS = ["surgical-blue"]  # one mask variant keeps the runs short

GPU_STANDIN = "embed_images:gpu=int(wildcards.variant == 'none')"
PLACEHOLDERS = {"<account>": localslurm.ACCOUNT, "<cpu-partition>": "cpu", "<gpu-partition>": "gpu"}


def demo_config(workdir: Path) -> None:
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["datasets"]["demo"]["sources"] = str(REPO / "config/datasets/demo.yaml")
    cfg["masks"]["variants"] = {k: v for k, v in cfg["masks"]["variants"].items() if k in VARIANTS}
    # tests/workflow/test_mitigation.py runs those stages
    cfg["mitigation"]["bases"], cfg["privacy"]["probes"] = [], []
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    seed_downloads(workdir)


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        *args,
    ]


def run_snakemake(workdir: Path, *args: str, env=None, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        snakemake_cmd(workdir, *args), capture_output=True, text=True, timeout=1800, env=env
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
        )
    return proc


def table_files(workdir: Path) -> list[str]:
    return sorted(
        str(p.relative_to(workdir)) for p in (workdir / "results/tables").rglob("*") if p.is_file()
    )


def incomplete_outputs(workdir: Path) -> list[str]:
    """The outputs Snakemake has marked incomplete (jobs started and not finished)."""
    markers = workdir / ".snakemake/incomplete"
    paths = []
    for marker in markers.glob("*") if markers.is_dir() else []:
        try:
            paths.append(base64.urlsafe_b64decode(marker.name).decode())
        except ValueError:
            continue  # Snakemake's own bookkeeping files
    return paths


def finished_outputs(workdir: Path) -> dict[str, int]:
    """mtime (ns) of every file under results/ that no running job is writing (prepared faces aside:
    temporary, Snakemake deletes them once the embedding jobs that read them are done)."""
    running = incomplete_outputs(workdir)
    out = {}
    for path in (workdir / "results").rglob("*"):
        rel = str(path.relative_to(workdir))
        if (
            path.is_file()
            and not rel.startswith("results/prepared/")
            and not any(rel == r or rel.startswith(r.rstrip("/") + "/") for r in running)
        ):
            out[rel] = path.stat().st_mtime_ns
    return out


def kill_during_embedding(
    workdir: Path, cmd: list[str], env=None
) -> tuple[dict[str, int], list[str]]:
    """Run ``cmd``; once an embedding job has started, SIGKILL Snakemake and its local jobs.
    Returns the outputs finished before the kill (with mtimes) and those it left incomplete."""
    log_path = workdir / "killed-run.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 900
        while not [p for p in incomplete_outputs(workdir) if p.startswith("results/embeddings/")]:
            assert proc.poll() is None, (
                "the run ended before an embedding job started:\n" + log_path.read_text()[-3000:]
            )
            assert time.monotonic() < deadline, "no embedding job started within 15 minutes"
            time.sleep(0.05)
        return finished_outputs(workdir), incomplete_outputs(workdir)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def killed_and_resumed_local_run(tmp_path_factory) -> dict:
    """The demo, killed (SIGKILL to Snakemake and its jobs) during the embedding stage, then resumed."""
    workdir = tmp_path_factory.mktemp("local-audit")
    demo_config(workdir)
    before, killed = kill_during_embedding(workdir, snakemake_cmd(workdir, "--cores", "1"))
    # What a crash leaves behind: the killed job's cache, partly written.
    partial = {p for p in killed if p.endswith(".npz")}
    for path in partial:
        (workdir / path).parent.mkdir(parents=True, exist_ok=True)
        (workdir / path).write_bytes(b"PK\x03\x04 truncated by the test")
    steps = {
        # A hard kill may leave Snakemake's lock behind (depending on when it struck).
        "unlock": run_snakemake(workdir, "--unlock"),
        "rerun": run_snakemake(workdir, "--cores", "1", check=False),
        "resume": run_snakemake(workdir, "--cores", "1", "--rerun-incomplete"),
    }
    return {
        "workdir": workdir,
        "before": before,
        "killed": killed,
        "partial": partial,
        "steps": steps,
    }


def test_killed_run_refuses_incomplete_outputs(local_resumed_run):
    steps = local_resumed_run["steps"]
    assert local_resumed_run["partial"], "the kill must interrupt an embedding job"
    incomplete = steps["rerun"]
    text = incomplete.stdout + incomplete.stderr
    assert incomplete.returncode != 0 and "incomplete" in text.lower()
    for path in local_resumed_run["partial"]:
        assert path in text  # the message names the file and the fix (--rerun-incomplete)
    assert "--rerun-incomplete" in text


def test_resume_recomputes_only_what_was_unfinished(local_resumed_run):
    from maskaudit.embed import load_cache

    run = local_resumed_run
    workdir = run["workdir"]
    assert run["before"], "some outputs were finished before the kill"
    after = finished_outputs(workdir)
    changed = [p for p, mtime in run["before"].items() if after.get(p) != mtime]
    assert not changed, f"finished outputs recomputed or lost on resume: {changed}"
    for path in run["partial"]:
        ids, vectors, status = load_cache(workdir / path)
        assert len(ids) == len(status) == len(vectors) > 0
    assert not incomplete_outputs(workdir)
    assert "Nothing to be done" in run_snakemake(workdir, "--cores", "1", "--dry-run").stdout


def cluster_unavailable() -> str | None:
    missing = localslurm.missing_programs()
    if missing:
        return (
            f"SLURM test cluster unavailable: missing {', '.join(missing)} "
            f"(install: apt-get install -y {' '.join(localslurm.PACKAGES)}; .ci/run does)"
        )
    reasons = localslurm.conflicts()
    if reasons:
        return "SLURM test cluster cannot start here: " + "; ".join(reasons)
    return None


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """The running test cluster, or the reason there is none (the SLURM tests then skip)."""
    reason = cluster_unavailable()
    if reason:
        yield reason
        return
    slurm = localslurm.LocalSlurm(tmp_path_factory.mktemp("slurm"))
    slurm.start()
    try:
        yield slurm
    finally:
        slurm.stop()


@pytest.fixture(scope="session")
def runs(cluster, tmp_path_factory):
    """The SLURM run (in a thread: it mostly waits on the scheduler) and, meanwhile, the local
    killed-and-resumed run it is compared with."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        slurm = None
        if isinstance(cluster, localslurm.LocalSlurm):
            slurm = pool.submit(killed_and_resumed_slurm_run, cluster, tmp_path_factory)
        local = killed_and_resumed_local_run(tmp_path_factory)
        return {"local": local, "slurm": slurm.result() if slurm else None, "cluster": cluster}


@pytest.fixture(scope="session")
def local_resumed_run(runs):
    return runs["local"]


@pytest.fixture(scope="session")
def slurm_run(runs):
    if runs["slurm"] is None:
        pytest.skip(runs["cluster"])
    run = runs["slurm"]
    assert run["resume"].returncode == 0, (
        "the resumed SLURM run failed:\n" + run["logs"][-1][-6000:]
    )
    return run


def fill(text: str) -> str:
    for key, value in PLACEHOLDERS.items():
        text = text.replace(key, value)
    left = re.findall(r"^[^#\n]*(<[\w-]+>)", text, re.M)
    assert not left, f"profile placeholders the test does not know: {left}"
    return text


def site_profile(dest: Path) -> Path:
    """profiles/slurm filled in for the test cluster; only conda deployment is dropped."""
    dest.mkdir(parents=True, exist_ok=True)
    profile = yaml.safe_load(fill((REPO / "profiles/slurm/profile.yaml").read_text()))
    partitions = profile["slurm-partition-config"]
    (dest / "partitions.yaml").write_text(fill((REPO / partitions).read_text()))
    profile["slurm-partition-config"] = str(dest / "partitions.yaml")
    assert profile.pop("software-deployment-method") == "conda"
    (dest / "profile.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return dest


def profile_set_resources() -> list[str]:
    profile = yaml.safe_load((REPO / "profiles/slurm/profile.yaml").read_text())
    return [
        f"{rule}:{key}={value}"
        for rule, values in profile.get("set-resources", {}).items()
        for key, value in values.items()
    ]


def killed_and_resumed_slurm_run(cluster, tmp_path_factory) -> dict:
    """The demo through SLURM, its submitting Snakemake SIGKILLed (a lost login session) during
    the embedding stage; its jobs cancelled with scancel, as the README says; then resumed."""
    workdir = tmp_path_factory.mktemp("slurm-audit")
    demo_config(workdir)
    profile = site_profile(workdir / "profile")
    args = [
        "--workflow-profile",
        str(profile),
        "--jobs",
        "4",
        # Poll every few seconds instead of the plugin's 40 s start: test speed only.
        "--slurm-init-seconds-before-status-checks",
        "2",
        # the CLI replaces the profile's set-resources, so they are passed again beside the stand-in
        "--set-resources",
        GPU_STANDIN,
        *profile_set_resources(),
    ]
    before, killed = kill_during_embedding(
        workdir, snakemake_cmd(workdir, *args), env=cluster.env()
    )
    cluster.run("scancel", "--user", getpass.getuser())
    deadline = time.monotonic() + 120
    while cluster.run("squeue", "--noheader", "--user", getpass.getuser()).strip():
        assert time.monotonic() < deadline, "cancelled jobs did not leave the queue"
        time.sleep(1)
    run_snakemake(workdir, "--unlock", env=cluster.env())
    resume = run_snakemake(workdir, *args, "--rerun-incomplete", env=cluster.env(), check=False)
    (workdir / "resumed-run.log").write_text(resume.stdout + resume.stderr)
    logs = [(workdir / "killed-run.log").read_text(), resume.stdout + resume.stderr]
    return {"workdir": workdir, "before": before, "killed": killed, "resume": resume, "logs": logs}


def _job_blocks(text: str, group: str | None) -> list[dict]:
    jobs = []
    for block in re.split(r"\n(?=\[[^\]]+\]\n(?:local)?rule \w+:)", text):
        head = re.search(r"^(local)?rule (\w+):", block, re.M)
        jobid = re.search(r"^\s+jobid: (\d+)", block, re.M)
        if not head or not jobid:
            continue
        res = re.search(r"^\s+resources: (.*)$", block, re.M)
        resources = dict(item.split("=", 1) for item in res.group(1).split(", ")) if res else {}
        threads = re.search(r"^\s+threads: (\d+)", block, re.M)
        wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        jobs.append(
            {
                "rule": head.group(2),
                "local": bool(head.group(1)),
                "jobid": jobid.group(1),
                "wildcards": wildcards.group(1) if wildcards else "",
                "threads": int(threads.group(1)) if threads else 1,
                "resources": resources,
                "group": group,
            }
        )
    return jobs


def snakemake_jobs(log: str) -> list[dict]:
    """Every job block Snakemake printed: rule, local or not, wildcards, threads, resources, and
    for members of a group job the group's id (its ``Job <id> has been submitted`` line follows)."""
    lines = log.split("\n")
    # Group jobs are submitted in the order they are announced; the n-th announcement's id is the
    # n-th submitted non-numeric job id ("" when the kill came first).
    group_ids = re.findall(r"Job ([0-9a-f-]{36}) has been submitted with SLURM jobid", log)
    plain, jobs, k, n = [], [], 0, 0
    while k < len(lines):
        if not re.search(r"Group job \w+ \(jobs in lexicogr\. order\):", lines[k]):
            plain.append(lines[k])
            k += 1
            continue
        members = []
        k += 1
        while k < len(lines) and (lines[k].startswith("    ") or not lines[k].strip()):
            members.append(lines[k][4:])
            k += 1
        jobs += _job_blocks("\n".join(members), group_ids[n] if n < len(group_ids) else "")
        n += 1
    return _job_blocks("\n".join(plain), None) + jobs


def sacct_jobs(cluster) -> dict[str, dict]:
    fields = [
        "JobID",
        "Comment",
        "Partition",
        "TimelimitRaw",
        "ReqMem",
        "ReqCPUS",
        "ReqTRES",
        "AllocTRES",
        "State",
    ]
    out = cluster.run(
        "sacct",
        "-X",
        "-P",
        "-n",
        "-a",
        "-S",
        "2000-01-01",
        "-o",
        ",".join(f + "%300" for f in fields),
    )
    rows = [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]
    return {row["JobID"]: row for row in rows}


def profile_resources() -> dict[str, dict]:
    return yaml.safe_load((REPO / "profiles/slurm/profile.yaml").read_text())["set-resources"]


def profile_groups() -> dict[str, str]:
    profile = yaml.safe_load((REPO / "profiles/slurm/profile.yaml").read_text())
    return dict(item.split("=") for item in profile["groups"])


def test_jobs_went_through_sbatch_with_declared_resources(slurm_run, cluster):
    accounting = sacct_jobs(cluster)
    grouped_rules = profile_groups()
    pool_mb = int(
        dict(
            r.split("=")
            for r in yaml.safe_load((REPO / "profiles/slurm/profile.yaml").read_text())["resources"]
        )["mem_mb"]
    )
    all_submitted, remote, states, groups = set(), [], {}, {}
    for attempt, log in enumerate(slurm_run["logs"]):  # the killed run, then the resumed one
        resumed = attempt == len(slurm_run["logs"]) - 1
        submitted = dict(re.findall(r"Job ([\w-]+) has been submitted with SLURM jobid (\d+)", log))
        all_submitted |= set(submitted.values())
        jobs = snakemake_jobs(log)
        if resumed:
            assert {j["rule"] for j in jobs if j["local"]} >= {"collect_table"}
        for job in jobs:
            if job["local"]:  # downloads and bookkeeping stay on the submit host
                assert job["jobid"] not in submitted, job
                continue
            if job["group"] is not None:  # one sbatch for the group, never one per member
                assert job["rule"] in grouped_rules and job["jobid"] not in submitted, job
                if job["group"] in submitted:
                    groups.setdefault(submitted[job["group"]], []).append(job)
                else:
                    assert not resumed, (
                        f"group of {job['rule']} {job['wildcards']} was not submitted"
                    )
                continue
            assert job["rule"] not in grouped_rules, f"{job['rule']} ran outside its group"
            if job["jobid"] not in submitted:
                assert not resumed, (
                    f"{job['rule']} {job['wildcards']} was not submitted with sbatch"
                )
                continue  # announced just before the kill
            remote.append(job)
            row = accounting[submitted[job["jobid"]]]
            states[row["State"]] = states.get(row["State"], 0) + 1
            what = f"{job['rule']} ({job['wildcards']}), SLURM job {row['JobID']}: {row}"
            assert row["State"] == "COMPLETED" or (
                not resumed and row["State"].startswith("CANCELLED")
            ), what
            assert row["Comment"].startswith(f"rule_{job['rule']}"), what
            res = job["resources"]
            assert row["ReqMem"] == f"{res['mem_mb']}M", what
            assert int(row["TimelimitRaw"]) == int(res["runtime"]), what
            assert int(row["ReqCPUS"]) == job["threads"], what
            gpus = int(res.get("gpu", 0))
            if gpus:
                assert row["Partition"] == "gpu" and f"gres/gpu={gpus}" in row["ReqTRES"], what
            else:
                assert row["Partition"] == "cpu" and "gres/gpu" not in row["ReqTRES"], what
    rules = {j["rule"] for j in remote}
    assert rules >= {
        "detect_faces",
        "merge_faces",
        "mask_images",
        "prepare_faces",
        "embed_images",
        "build_protocol",
    }
    # the shared preparation is a CPU job with several cores; embedding jobs declare their GPU memory
    prepares = [j for j in remote if j["rule"] == "prepare_faces"]
    assert prepares and all(
        j["threads"] > 1 and not int(j["resources"].get("gpu", 0)) for j in prepares
    )
    gpu_jobs = [j for j in remote if int(j["resources"].get("gpu", 0))]
    cpu_embeds = [
        j for j in remote if j["rule"] == "embed_images" and not int(j["resources"].get("gpu", 0))
    ]
    assert gpu_jobs and cpu_embeds, "the run must exercise both GPU and CPU routing"
    assert any(state.startswith("CANCELLED") for state in states), (
        f"the kill cancelled no job: {states}"
    )
    # Cheap per-(model, dataset) steps: one sbatch per (model, dataset), sized by Snakemake within the pool.
    assert groups, "no group job was submitted"
    for slurm_id, members in groups.items():
        row = accounting[slurm_id]
        what = (
            f"group job {slurm_id}: {row}; members {[(j['rule'], j['wildcards']) for j in members]}"
        )
        assert row["State"] == "COMPLETED" and row["Comment"].startswith("rule_model_dataset"), what
        # one pair
        assert len({re.sub(r", variant=[\w-]+", "", j["wildcards"]) for j in members}) == 1, what
        assert {"score_comparisons", "compute_metrics"} <= {j["rule"] for j in members}, what
        pinned = profile_resources()
        mem = [int(j["resources"]["mem_mb"]) for j in members]  # all known: the profile pins them
        assert all(m == pinned[j["rule"]]["mem_mb"] for m, j in zip(mem, members)), what
        assert max(mem) <= int(row["ReqMem"].rstrip("M")) <= pool_mb, what
        assert int(row["TimelimitRaw"]) >= max(pinned[j["rule"]]["runtime"] for j in members), what
        assert row["Partition"] == "cpu" and int(row["ReqCPUS"]) >= 1, what
    paired = {re.sub(r", variant=[\w-]+", "", j["wildcards"]) for ms in groups.values() for j in ms}
    assert len(groups) == len(paired)  # exactly one group per (model, dataset)
    # Nothing ran through SLURM that Snakemake did not submit.
    assert set(accounting) == all_submitted


def test_killed_slurm_run_resumes_without_recomputing(slurm_run):
    workdir = slurm_run["workdir"]
    assert [p for p in slurm_run["killed"] if p.startswith("results/embeddings/")]
    assert slurm_run["before"], "some outputs were finished before the kill"
    after = finished_outputs(workdir)
    changed = [p for p, mtime in slurm_run["before"].items() if after.get(p) != mtime]
    assert not changed, f"finished outputs recomputed or lost on resume: {changed}"
    assert not incomplete_outputs(workdir)


def test_slurm_tables_equal_local_run(slurm_run, local_resumed_run):
    slurm_dir = slurm_run["workdir"]
    local_dir = local_resumed_run["workdir"]
    slurm_tables, local_tables = table_files(slurm_dir), table_files(local_dir)
    assert slurm_tables and sorted(slurm_tables) == sorted(local_tables)
    for name in local_tables:
        assert (slurm_dir / name).read_bytes() == (local_dir / name).read_bytes(), name


def test_ci_installs_the_cluster_packages():
    ci = (REPO / ".ci/run").read_text()
    listed = re.search(r'^SLURM_PACKAGES="([^"]+)"', ci, re.M)
    assert listed and set(listed.group(1).split()) == set(localslurm.PACKAGES)
