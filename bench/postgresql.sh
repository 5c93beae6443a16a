#!/usr/bin/env bash
# Times the postgresql role on fresh Debian 12 containers of the lab image (community.docker.docker with
# pipelining, the repository's ansible.cfg), RUNS times on new containers each (medians reported):
#  1. the reference work of geerlingguy.postgresql (install, one database, one user) on one host: first run
#     and unchanged second run;
#  2. the full role - TLS required, a streaming standby, pgBackRest with timers - on a primary and a standby:
#     first run and unchanged second run.
# Usage: bench/postgresql.sh [RUNS]   (default 3). Prints Markdown; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-${RUNS:-3}}
primary=eightfold-bench-postgresql-primary
standby=eightfold-bench-postgresql-standby
work=$(mktemp -d)
export ANSIBLE_FORCE_COLOR=0
trap 'ansible-playbook bench/playbooks/postgresql_hosts.yml -e bench_state=absent >/dev/null; rm -rf "$work"' EXIT

cat > "$work/single.yml" <<INVENTORY
all:
  vars: {$BENCH_CONNECTION}
  hosts: {$primary: {}}
INVENTORY
cat > "$work/full.yml" <<INVENTORY
all:
  vars: {$BENCH_CONNECTION, bench_full: true}
  hosts:
    $primary: {}
    $standby: {postgresql_replication_primary: $primary}
INVENTORY

# Seconds (one decimal) of a run with inventory $1; its recap goes to $work/last.log.
timed_run() {
  timed "$work/last.log" ansible-playbook -i "$work/$1.yml" bench/playbooks/postgresql.yml
}
# Stops the bench when the last run failed.
check_run() {
  grep -qE "^$primary +: .*failed=0" "$work/last.log" || { tail -40 "$work/last.log" >&2; exit 1; }
}
changed() { sed -nE "s/^$primary +: .*changed=([0-9]+).*/\1/p" "$work/last.log"; }
fresh_hosts() {
  ansible-playbook bench/playbooks/postgresql_hosts.yml -e bench_state=absent >/dev/null
  ansible-playbook bench/playbooks/postgresql_hosts.yml >/dev/null
}

for kind in single full; do
  first=() second=() second_changed=()
  for _ in $(seq "$runs"); do
    fresh_hosts
    first+=("$(timed_run "$kind")")
    check_run
    second+=("$(timed_run "$kind")")
    check_run
    second_changed+=("$(changed)")
  done
  label=$([ "$kind" = single ] && echo "install, one database, one user (1 host)" \
    || echo "full role: TLS required, standby, pgBackRest (primary + standby)")
  echo "| $label: first run (median of $runs: ${first[*]}) | $(printf '%s\n' "${first[@]}" | median) s |"
  echo "| $label: unchanged second run (median of $runs: ${second[*]}; changed: ${second_changed[*]}) |" \
    "$(printf '%s\n' "${second[@]}" | median) s |"
done
