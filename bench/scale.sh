#!/usr/bin/env bash
# The cost per host of an unchanged run at scale: os_hardening + ssh_hardening + firewall (bench/playbooks/
# hardening.yml) on N copies of one converged Debian 12 host, N = 6, 12, 24 (10 forks, the repository's
# ansible.cfg), RUNS times each (medians). One host is converged, committed as an image, and started N times.
# Usage: bench/scale.sh [RUNS]   (default 3). Prints Markdown; asserts nothing.
#
# Environment:
#   TREES="label=/path ..."  time the roles of other checkouts too (each needs .collections/ansible_collections/
#                            eightfold/devops pointing at itself), one after the other on the same copies.
#                            Default: current=<this repo>.
#   SIZES="6 12 24"          the numbers of hosts.
# More than about 14 systemd containers need fs.inotify.max_user_instances raised: the script raises it to
# 1024 (and puts it back at exit).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-3}
read -r -a sizes <<< "${SIZES:-6 12 24}"
read -r -a trees <<< "${TREES:-current=$PWD}"
image=eightfold/bench-scale
network=eightfold-bench-scale
work=$(mktemp -d)
inotify=$(cat /proc/sys/fs/inotify/max_user_instances)
max=${sizes[-1]}

lab() {  # lab(state, hosts JSON, repository)
  ansible-playbook bench/playbooks/scale_hosts.yml -e "bench_state=$1" -e "{\"bench_hosts\": $2}" \
    -e "bench_repository=$3" >> "$work/lab.log"
}
hosts_json() {  # hosts_json(N): [{"name": "eightfold-bench-scale-1", "release": "12"}, ...]
  local n=$1 i out=""
  for i in $(seq "$n"); do out+="{\"name\": \"$network-$i\", \"release\": \"12\"},"; done
  echo "[${out%,}]"
}
cleanup() {
  lab absent "$(hosts_json "$max")" eightfold/debian || true
  docker image rm -f "$image:12" > /dev/null 2>&1 || true
  echo "$inotify" > /proc/sys/fs/inotify/max_user_instances
  rm -rf "$work"
}
trap cleanup EXIT
[ "$inotify" -ge 1024 ] || echo 1024 > /proc/sys/fs/inotify/max_user_instances

inventory() {  # inventory(N) -> the path of an inventory of the first N copies
  local n=$1 i
  {
    echo "all:"
    echo "  vars: {$BENCH_CONNECTION}"
    echo "  hosts:"
    for i in $(seq "$n"); do echo "    $network-$i: {}"; done
  } > "$work/inventory-$n.yml"
  echo "$work/inventory-$n.yml"
}
run_tree() {  # run_tree(tree, inventory) -> seconds; output in $work/last.log
  timed "$work/last.log" env ANSIBLE_COLLECTIONS_PATH="$1/.collections" ANSIBLE_FORCE_COLOR=0 \
    ansible-playbook -f 10 -i "$2" "$1/bench/playbooks/hardening.yml"
}
changed_total() { sed -nE 's/^[^ ]+ +: .*changed=([0-9]+).*/\1/p' "$work/last.log" | awk '{s += $1} END {print s + 0}'; }

# One host converged by the first tree, committed: every copy starts converged.
lab present "$(hosts_json 1)" eightfold/debian
run_tree "${trees[0]#*=}" "$(inventory 1)" > /dev/null
docker commit "$network-1" "$image:12" > /dev/null
lab absent "$(hosts_json 1)" eightfold/debian

echo "| hosts | tree | unchanged run (median of $runs) | per host | runs (s) | changed |"
echo "|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  lab present "$(hosts_json "$n")" "$image"
  inv=$(inventory "$n")
  # Tree by tree: a first run brings the copies to that tree's state (not timed), then the timed runs. The
  # trees differ in some files, so alternating them run by run would time changes, not unchanged runs.
  for entry in "${trees[@]}"; do
    label=${entry%%=*}
    run_tree "${entry#*=}" "$inv" > /dev/null
    times=() changes=()
    for run in $(seq "$runs"); do
      times+=("$(run_tree "${entry#*=}" "$inv")")
      changes+=("$(changed_total)")
    done
    m=$(printf '%s\n' "${times[@]}" | median)
    echo "| $n | $label | $m s | $(awk -v m="$m" -v n="$n" 'BEGIN {printf "%.2f", m / n}') s | ${times[*]} |" \
      "${changes[*]} |"
  done
  lab absent "$(hosts_json "$n")" "$image"
done
