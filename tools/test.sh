#!/usr/bin/env bash
# `make test` after lint and sanity: the unit tests (two streams) and the Molecule scenarios side by side. All
# spend most of their time waiting on containers (apt, dpkg, systemd), so overlapping them shortens CI. The
# unit tests' output goes to .cache/unit.log and .cache/unit-slow.log, printed when they end (in full when
# they fail, else the slowest tests and the summary). Exit status: non-zero when any failed.
# Usage: tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
unit_log=.cache/unit.log

# The tests that break runs on purpose (tests/unit/crash, tests/unit/defaults) take minutes of waiting on
# their hosts each: a stream of their own beside the other unit tests.
slow_dirs=(tests/unit/crash tests/unit/defaults)
slow_log=.cache/unit-slow.log
echo "unit tests: started (logs: $unit_log, $slow_log)"
pytest --durations=15 "${slow_dirs[@]/#/--ignore=}" > "$unit_log" 2>&1 &
unit_pid=$!
pytest --durations=15 "${slow_dirs[@]}" > "$slow_log" 2>&1 &
slow_pid=$!
molecule_rc=0
tools/molecule.sh || molecule_rc=$?
unit_rc=0 slow_rc=0
wait "$unit_pid" || unit_rc=$?
wait "$slow_pid" || slow_rc=$?

report() {  # report(name, rc, log)
  if [[ $2 == 0 ]]; then
    echo "$1: passed"
    sed -n '/slowest .* durations/,$p' "$3"
  else
    echo "$1: FAILED (rc $2); their log:"
    cat "$3"
  fi
}
report "unit tests" "$unit_rc" "$unit_log"
report "unit tests that break runs (crash, defaults)" "$slow_rc" "$slow_log"
# CI keeps only the tail of the output: name the flaky and the failed scenarios and their errors last.
errors() {
  grep -E -A3 '^(fatal|failed):|^ERROR|FAILED!|Traceback|Error:' "$1" | cut -c1-400 | tail -n "$2"
}
for flaky in .cache/molecule-logs/*.flaky; do
  [[ -e $flaky ]] || continue
  echo "molecule $(basename "$flaky" .flaky): FLAKY - failed once, then ran again; the first attempt's errors:"
  errors "$flaky" 20
done
for failed in .cache/molecule-logs/*.failed; do
  [[ -e $failed ]] || continue
  scenario=$(basename "$failed" .failed)
  echo "molecule $scenario: FAILED (rc $(cat "$failed")); its errors (full log printed above):"
  errors ".cache/molecule-logs/$scenario.log" 40
done
[[ $molecule_rc == 0 && $unit_rc == 0 && $slow_rc == 0 ]]
