#!/usr/bin/env bash
# Times os_hardening + ssh_hardening + firewall with their defaults on fresh Debian 12 containers of the lab
# image (connection community.docker.docker with pipelining, the repository's ansible.cfg): the first run
# and an unchanged second run, RUNS times on a new container each (medians reported). Then the Lynis
# hardening index (Debian's lynis package) of a fresh container and of a hardened one, and the suggestions
# Lynis still makes. Usage: bench/hardening.sh [RUNS]   (default 3). Prints Markdown; asserts nothing.
#
# Environment:
#   TREES="label=/path ..."  time the roles of other checkouts too (each needs .collections/ansible_collections/
#                            eightfold/devops pointing at itself) in turn, run by run, so that a before/after
#                            comparison sees the same load. Labels without spaces. Default: current=<this repo>.
#                            label=/path@name=value,name=value runs that tree with these extra variables.
#   LYNIS=0                  skip the Lynis part.
#   PROFILE=DIR              keep each run's output with per-task times (profile_tasks) in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-3}
host=eightfold-bench-hardening-debian12
bench_host=(-e lab_network=eightfold-bench-hardening
            -e "{\"lab_hosts\": [{\"name\": \"$host\", \"release\": \"12\"}]}")
work=$(mktemp -d)
trap 'ansible-playbook bench/playbooks/bench_host.yml "${bench_host[@]}" -e bench_state=absent >/dev/null;
      rm -rf "$work"' EXIT
read -r -a trees <<< "${TREES:-current=$PWD}"

cat > "$work/inventory.yml" <<INVENTORY
all:
  vars: {$BENCH_CONNECTION}
  hosts: {$host: {}}
INVENTORY

# Seconds (one decimal) of a hardening run with the roles of tree $1 (path[@extra vars]); its output goes to
# $work/last.log.
timed_run() {
  local tree=${1%%@*} extra=() vars=()
  [[ $1 != *@* ]] || IFS=, read -r -a vars <<< "${1#*@}"
  for var in "${vars[@]}"; do extra+=(-e "$var"); done
  local env=(ANSIBLE_COLLECTIONS_PATH="$tree/.collections" ANSIBLE_FORCE_COLOR=0)
  # Only with PROFILE: ansible-core 2.19 refuses an empty callback name.
  [ -z "${PROFILE:-}" ] || env+=(ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=all)
  timed "$work/last.log" env "${env[@]}" ansible-playbook -i "$work/inventory.yml" "${extra[@]}" \
    "$tree/bench/playbooks/hardening.yml"
}
changed() { sed -nE "s/^$host +: .*changed=([0-9]+).*/\1/p" "$work/last.log"; }
keep_log() { [ -z "${PROFILE:-}" ] || { mkdir -p "$PROFILE"; cp "$work/last.log" "$PROFILE/$1.log"; }; }
fresh_host() {
  ansible-playbook bench/playbooks/bench_host.yml "${bench_host[@]}" -e bench_state=absent >/dev/null
  ansible-playbook bench/playbooks/bench_host.yml "${bench_host[@]}" >/dev/null
}
lynis_index() {
  docker exec "$host" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lynis >/dev/null 2>&1
    lynis audit system --quick --no-colors >/dev/null 2>&1; sed -n "s/^hardening_index=//p" /var/log/lynis-report.dat'
}

declare -A first second second_changed
for run in $(seq "$runs"); do
  for entry in "${trees[@]}"; do
    label=${entry%%=*} tree=${entry#*=}
    fresh_host
    first[$label]+="$(timed_run "$tree") "
    keep_log "$label-$run-first"
    second[$label]+="$(timed_run "$tree") "
    keep_log "$label-$run-second"
    second_changed[$label]+="$(changed) "
  done
done

for entry in "${trees[@]}"; do
  label=${entry%%=*}
  read -r -a f <<< "${first[$label]}"
  read -r -a s <<< "${second[$label]}"
  echo "| $label: first run, fresh container (median of $runs: ${f[*]}) | $(printf '%s\n' "${f[@]}" | median) s |"
  echo "| $label: unchanged second run (median of $runs: ${s[*]}; changed: ${second_changed[$label]% }) |" \
    "$(printf '%s\n' "${s[@]}" | median) s |"
done

[ "${LYNIS:-1}" = 1 ] || exit 0
hardened_index=$(lynis_index)
docker exec "$host" sed -n 's/^suggestion\[\]=//p' /var/log/lynis-report.dat > "$work/suggestions"
fresh_host
fresh_index=$(lynis_index)
echo "| Lynis hardening index, fresh container | $fresh_index |"
echo "| Lynis hardening index, after the three roles (${trees[-1]%%=*}) | $hardened_index |"
echo
echo "Lynis suggestions left after the three roles (test id|text|details|solution):"
sed 's/^/- /' "$work/suggestions"
