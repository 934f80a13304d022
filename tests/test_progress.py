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
