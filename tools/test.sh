#!/usr/bin/env bash
# `make test` after lint and sanity: the unit tests and the Molecule scenarios side by side. Both spend most
# of their time waiting on containers (apt, dpkg, systemd), so overlapping them shortens CI by about the
# unit tests' length. The unit tests' output goes to .cache/unit.log and is printed when they end (in full
# when they fail, else the slowest tests and the summary). Exit status: non-zero when either failed.
# Usage: tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
unit_log=.cache/unit.log

echo "unit tests: started (log: $unit_log)"
pytest --durations=15 > "$unit_log" 2>&1 &
unit_pid=$!
molecule_rc=0
tools/molecule.sh || molecule_rc=$?
unit_rc=0
wait "$unit_pid" || unit_rc=$?

if [[ $unit_rc == 0 ]]; then
  echo "unit tests: passed"
  sed -n '/slowest .* durations/,$p' "$unit_log"
else
  echo "unit tests: FAILED (rc $unit_rc); their log:"
  cat "$unit_log"
fi
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
[[ $molecule_rc == 0 && $unit_rc == 0 ]]
