"""The Prometheus text format: parseable line by line, cumulative histograms, escaped labels."""

from __future__ import annotations

import re

from notes.metrics import BUCKETS, Metrics, labels

SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+Inf-]+$'
)


def test_every_line_is_a_comment_or_a_sample():
    metrics = Metrics()
    for seconds in (0.001, 0.02, 0.3, 7.0, 30.0):
        metrics.begin()
        metrics.observe("GET", "/notes", 200, seconds)
    text = metrics.render('1.0 "quoted"\\', 5)
    assert text.endswith("\n")
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or SAMPLE.match(line), line
    counts = [
        int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("notes_http_request_duration_seconds_bucket")
    ]
    assert len(counts) == len(BUCKETS) + 1
    assert counts == sorted(counts)  # cumulative
    assert counts[0] == 1 and counts[-2] == 4 and counts[-1] == 5  # 30 s only in +Inf
    assert "notes_http_requests_in_flight 0" in text
    assert 'notes_build_info{version="1.0 \\"quoted\\"\\\\"} 1' in text


def test_label_escaping():
    assert labels(a='x"y', b="back\\slash", c="new\nline") == '{a="x\\"y",b="back\\\\slash",c="new\\nline"}'
