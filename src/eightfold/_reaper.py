"""The reaper of one run: ``python -m eightfold._reaper <run dir>``.

Started with every run, in a process session of its own and without the run's environment marker. It blocks
on a pipe from the process that owns the run; that process writes ``done`` once the run is finished.
When the pipe closes without it - the owner was killed (SIGKILL included), crashed or exited without
waiting for the run - the reaper finishes the run at once: it ends the run's processes, removes its
private data and writes its result (status canceled). See ``eightfold._runs.finish_abandoned``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        return 64
    try:
        said = sys.stdin.buffer.read()
    except KeyboardInterrupt:
        said = b""
    if b"done" in said:
        return 0
    from eightfold._runs import abandoned_reason, finish_abandoned, read_meta

    run_dir = Path(argv[0])
    finish_abandoned(run_dir, abandoned_reason(read_meta(run_dir) or {}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
