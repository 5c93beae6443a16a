#!/usr/bin/env bash
# Times site.yml on the lab: the converge of a fresh lab, then RUNS unchanged re-runs (median reported).
# Usage: bench/site_rerun.sh [RUNS]   (default 3). Takes the lab down first, so every host starts fresh.
# Prints a Markdown table row for docs/performance.md; asserts nothing.
#
# Environment:
#   FRESH=0                 leave the lab as it is (up and converged) and time only the unchanged re-runs.
#   TREES="label=/path ..." time the unchanged re-runs with the roles of other checkouts too (each needs
#                           .collections/ansible_collections/eightfold/devops pointing at itself), in turn run
#                           by run, so that a before/after comparison sees the same load. Labels without
#                           spaces. Default: current=<this repo>. The lab and its inventory are this repo's.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-3}
read -r -a trees <<< "${TREES:-current=$PWD}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

seconds() { timed /dev/null "$@"; }
# Seconds of an unchanged site.yml with the roles and playbooks of tree $1; fails when a host changed.
rerun() {
  local seconds
  seconds=$(timed "$log" env ANSIBLE_COLLECTIONS_PATH="$1/.collections" ansible-playbook "$1/playbooks/site.yml")
  if grep -qE 'changed=[1-9]' "$log"; then
    echo "error: site.yml of $1 changed a host on an unchanged lab:" >&2
    grep -E 'changed=[1-9]' "$log" >&2
    exit 1
  fi
  echo "$seconds"
}

if [ "${FRESH:-1}" = 1 ]; then
  ansible-playbook playbooks/lab_down.yml >/dev/null
  lab_up=$(seconds ansible-playbook playbooks/lab.yml)
  first=$(seconds ansible-playbook playbooks/site.yml)
  lab_rerun=$(seconds ansible-playbook playbooks/lab.yml)
  echo "| lab.yml, fresh | ${lab_up} s |"
  echo "| lab.yml, unchanged | ${lab_rerun} s |"
  echo "| site.yml, fresh lab (6 hosts) | ${first} s |"
fi

declare -A reruns
for _ in $(seq "$runs"); do
  for entry in "${trees[@]}"; do
    reruns[${entry%%=*}]+="$(rerun "${entry#*=}") "
  done
done
for entry in "${trees[@]}"; do
  label=${entry%%=*}
  read -r -a times <<< "${reruns[$label]}"
  echo "| $label: site.yml, unchanged (median of $runs: ${times[*]}) | $(printf '%s\n' "${times[@]}" | median) s |"
done
