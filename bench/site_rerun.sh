#!/usr/bin/env bash
# Times site.yml on the lab: the converge of a fresh lab, then RUNS unchanged re-runs (median reported).
# Usage: bench/site_rerun.sh [RUNS]   (default 3). Takes the lab down first, so every host starts fresh.
# Prints a Markdown table row for docs/performance.md; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-3}

seconds() { timed /dev/null "$@"; }

ansible-playbook playbooks/lab_down.yml >/dev/null
lab_up=$(seconds ansible-playbook playbooks/lab.yml)
first=$(seconds ansible-playbook playbooks/site.yml)
reruns=()
for _ in $(seq "$runs"); do reruns+=("$(seconds ansible-playbook playbooks/site.yml)"); done
lab_rerun=$(seconds ansible-playbook playbooks/lab.yml)

echo "| lab.yml, fresh | ${lab_up} s |"
echo "| lab.yml, unchanged | ${lab_rerun} s |"
echo "| site.yml, fresh lab (6 hosts) | ${first} s |"
echo "| site.yml, unchanged (median of $runs: ${reruns[*]}) | $(printf '%s\n' "${reruns[@]}" | median) s |"
