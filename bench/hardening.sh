#!/usr/bin/env bash
# Times os_hardening + ssh_hardening + firewall with their defaults on fresh Debian 12 containers of the lab
# image (connection community.docker.docker with pipelining, the repository's ansible.cfg): the first run
# and an unchanged second run, RUNS times on a new container each (medians reported). Then the Lynis
# hardening index (Debian's lynis package) of a fresh container and of a hardened one, and the suggestions
# Lynis still makes. Usage: bench/hardening.sh [RUNS]   (default 3). Prints Markdown; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-3}
host=eightfold-bench-debian12
work=$(mktemp -d)
trap 'ansible-playbook bench/playbooks/bench_host.yml -e bench_state=absent >/dev/null; rm -rf "$work"' EXIT

cat > "$work/inventory.yml" <<INVENTORY
all:
  vars: {$BENCH_CONNECTION}
  hosts: {$host: {}}
INVENTORY

# Seconds (one decimal) of a hardening run; its recap goes to $work/last.log.
timed_run() {
  timed "$work/last.log" ansible-playbook -i "$work/inventory.yml" bench/playbooks/hardening.yml
}
changed() { sed -nE "s/^$host +: .*changed=([0-9]+).*/\1/p" "$work/last.log"; }
fresh_host() {
  ansible-playbook bench/playbooks/bench_host.yml -e bench_state=absent >/dev/null
  ansible-playbook bench/playbooks/bench_host.yml >/dev/null
}
lynis_index() {
  docker exec "$host" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lynis >/dev/null 2>&1
    lynis audit system --quick --no-colors >/dev/null 2>&1; sed -n "s/^hardening_index=//p" /var/log/lynis-report.dat'
}

first=() second=() second_changed=()
for _ in $(seq "$runs"); do
  fresh_host
  first+=("$(timed_run)")
  second+=("$(timed_run)")
  second_changed+=("$(changed)")
done
hardened_index=$(lynis_index)
docker exec "$host" sed -n 's/^suggestion\[\]=//p' /var/log/lynis-report.dat > "$work/suggestions"
fresh_host
fresh_index=$(lynis_index)

echo "| First run, fresh container (median of $runs: ${first[*]}) | $(printf '%s\n' "${first[@]}" | median) s |"
echo "| Unchanged second run (median of $runs: ${second[*]}; changed: ${second_changed[*]}) |" \
  "$(printf '%s\n' "${second[@]}" | median) s |"
echo "| Lynis hardening index, fresh container | $fresh_index |"
echo "| Lynis hardening index, after the three roles | $hardened_index |"
echo
echo "Lynis suggestions left after the three roles (test id|text|details|solution):"
sed 's/^/- /' "$work/suggestions"
