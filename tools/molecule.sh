#!/usr/bin/env bash
# Runs `molecule test` for every scenario under extensions/molecule (or the ones named), JOBS at a time
# (default 2, env MOLECULE_JOBS). Scenarios are independent - own host names and network - so they can
# overlap; most of their time is spent waiting on apt, dpkg and systemd in the hosts, not on the CPU.
# Each scenario's output goes to .cache/molecule-logs/<scenario>.log; a failed scenario's log is printed
# and <scenario>.failed holds its exit status (tools/test.sh recaps those at the end).
# Usage: tools/molecule.sh [SCENARIO...]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MOLECULE_JOBS:-2}
logs=.cache/molecule-logs
mkdir -p "$logs"

if [[ $# -gt 0 ]]; then
  scenarios=("$@")
else
  # Longest first, so the short ones fill in around them.
  mapfile -t scenarios < <(
    for file in extensions/molecule/*/molecule.yml; do
      scenario=$(basename "$(dirname "$file")")
      echo "$(cat "$logs/$scenario.seconds" 2>/dev/null || echo 9999) $scenario"
    done | sort -rn | cut -d' ' -f2)
fi
for scenario in "${scenarios[@]}"; do
  [[ -f extensions/molecule/$scenario/molecule.yml ]] || { echo "no scenario $scenario" >&2; exit 64; }
done

# A scenario that fails is run once more (molecule test starts by destroying what the first attempt left):
# CI has failed now and then in a scenario that passed in the runs before and after with the same roles,
# two scenarios and the unit tests loading one Docker engine. A pass on the second attempt is not hidden:
# <scenario>.flaky keeps the first attempt's log and tools/test.sh prints its errors at the end of CI.
attempt() {
  molecule test --scenario-name "$1" > ".cache/molecule-logs/$1.log" 2>&1
}

run_one() {
  local scenario=$1 start rc
  start=$(date +%s)
  rm -f ".cache/molecule-logs/$scenario.failed" ".cache/molecule-logs/$scenario.flaky"
  echo "molecule $scenario: started"
  if attempt "$scenario"; then rc=0; else rc=$?; fi
  if [[ $rc != 0 ]]; then
    echo "molecule $scenario: failed (rc $rc) after $(( $(date +%s) - start )) s; running it once more"
    mv ".cache/molecule-logs/$scenario.log" ".cache/molecule-logs/$scenario.flaky"
    if attempt "$scenario"; then rc=0; else rc=$?; fi
  fi
  if [[ $rc == 0 ]]; then
    echo $(( $(date +%s) - start )) > ".cache/molecule-logs/$scenario.seconds"
    echo "molecule $scenario: passed in $(( $(date +%s) - start )) s"
  else
    echo "$rc" > ".cache/molecule-logs/$scenario.failed"
    mv ".cache/molecule-logs/$scenario.flaky" ".cache/molecule-logs/$scenario.first.log"
    echo "molecule $scenario: FAILED (rc $rc) after $(( $(date +%s) - start )) s; its log:"
    sed "s/^/[$scenario] /" ".cache/molecule-logs/$scenario.log" | tail -n 400
  fi
  return "$rc"
}
export -f attempt run_one

printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}
