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

run_one() {
  local scenario=$1 start rc
  start=$(date +%s)
  echo "molecule $scenario: started"
  rm -f ".cache/molecule-logs/$scenario.failed"
  if molecule test --scenario-name "$scenario" > ".cache/molecule-logs/$scenario.log" 2>&1; then rc=0; else rc=$?; fi
  if [[ $rc == 0 ]]; then
    echo $(( $(date +%s) - start )) > ".cache/molecule-logs/$scenario.seconds"
    echo "molecule $scenario: passed in $(( $(date +%s) - start )) s"
  else
    echo "$rc" > ".cache/molecule-logs/$scenario.failed"
    echo "molecule $scenario: FAILED (rc $rc) after $(( $(date +%s) - start )) s; its log:"
    sed "s/^/[$scenario] /" ".cache/molecule-logs/$scenario.log" | tail -n 400
  fi
  return "$rc"
}
export -f run_one

printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}
