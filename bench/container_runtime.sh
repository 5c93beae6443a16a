#!/usr/bin/env bash
# Times container_runtime for each provider (docker, containerd, podman) with its defaults on a fresh Debian 12
# container of the lab image (community.docker.docker with pipelining, the repository's ansible.cfg): the
# first run (install and configure) and an unchanged second run, RUNS times on a new container each (medians
# reported). Usage: bench/container_runtime.sh [RUNS]   (default 3; or RUNS=1 in the environment).
# Prints Markdown; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-${RUNS:-3}}
providers=${PROVIDERS:-docker containerd podman}
host=eightfold-bench-runtime-debian12
work=$(mktemp -d)
export ANSIBLE_FORCE_COLOR=0
trap 'ansible-playbook bench/playbooks/container_runtime_hosts.yml -e bench_state=absent >/dev/null; rm -rf "$work"' EXIT

cat > "$work/inventory.yml" <<INVENTORY
all:
  vars: {$BENCH_CONNECTION}
  hosts: {$host: {}}
INVENTORY

# Seconds (one decimal) of a run of the role for provider $1; its recap goes to $work/last.log.
timed_run() {
  timed "$work/last.log" \
    ansible-playbook -i "$work/inventory.yml" bench/playbooks/container_runtime.yml -e "bench_provider=$1"
}
changed() { sed -nE "s/^$host +: .*changed=([0-9]+).*/\1/p" "$work/last.log"; }
fresh_host() {
  ansible-playbook bench/playbooks/container_runtime_hosts.yml -e bench_state=absent >/dev/null
  ansible-playbook bench/playbooks/container_runtime_hosts.yml >/dev/null
}

echo "| Provider | First run, fresh container (median of $runs) | Unchanged second run (median of $runs) |"
echo "| --- | --- | --- |"
for provider in $providers; do
  first=() second=() second_changed=()
  for _ in $(seq "$runs"); do
    fresh_host
    first+=("$(timed_run "$provider")")
    second+=("$(timed_run "$provider")")
    second_changed+=("$(changed)")
  done
  echo "| $provider | $(printf '%s\n' "${first[@]}" | median) s (${first[*]}) |" \
    "$(printf '%s\n' "${second[@]}" | median) s (${second[*]}; changed: ${second_changed[*]}) |"
done
