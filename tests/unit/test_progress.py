"""Progress in rule logs: every item passes through and plain lines report done/total."""

import logging

from maskaudit.progress import progress


def test_log_mode_reports_weighted_totals(caplog):
    batches = [[1, 2, 3], [4, 5], [6]]
    with caplog.at_level(logging.INFO, logger="progress"):
        out = list(progress(batches, desc="embed toy", unit="img", size=len, every=0.0))
    assert out == batches
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("embed toy: 3/6 img") and lines[-1].startswith("embed toy: 6/6 img")
    assert len(lines) == 3


def test_job_log_ends_with_a_usage_record_checked_against_mem_mb(tmp_path):
    """A job's log gets one USAGE line at exit: CPU by stage, start-up, exact peak memory; a peak above
    the declared mem_mb is a warning in the same log."""
    import subprocess
    import sys

    from conftest import REPO

    from maskaudit.usage import read_usage

    code = (
        "import numpy as np\n"
        "from maskaudit.progress import setup_logging\n"
        "from maskaudit.usage import stage\n"
        "setup_logging({log!r}, mem_mb={mem})\n"
        "with stage('embed'):\n"
        "    a = np.ones(50_000_000)  # 400 MB, touched\n"
        "    s = float(a.sum())\n"
        "with stage('write'):\n"
        "    pass\n"
    )
    for name, mem in (("roomy", 4000), ("tight", 100)):
        log = tmp_path / f"{name}.log"
        subprocess.run(
            [sys.executable, "-c", code.format(log=str(log), mem=mem)], check=True, cwd=REPO
        )
        record = read_usage(log)
        assert record["mem_mb"] == mem and 400 < record["peak_rss_mb"] < 1500
        assert set(record["stages"]) == {"embed", "write"} and record["stages"]["embed"] > 0
        assert record["cpu_s"] >= record["startup_cpu_s"] + record["stages"]["embed"] - 0.05
        assert record["wall_s"] >= record["cpu_s"] * 0.5
        assert ("exceeded the declared mem_mb=100" in log.read_text()) is (name == "tight")
