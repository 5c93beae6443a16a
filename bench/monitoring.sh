#!/usr/bin/env bash
# Times the monitoring roles on fresh containers of the lab images - a Prometheus server (Debian 12) and two
# agents (Debian 12 and 13), node_exporter with TLS and basic auth everywhere (bench/playbooks/monitoring.yml;
# connection community.docker.docker with pipelining, the repository's ansible.cfg): the first run, an
# unchanged rerun of all three hosts, and an unchanged run of one agent alone (--limit), RUNS times on new
# containers each (medians reported). Usage: bench/monitoring.sh [RUNS]   (default 3). Prints Markdown;
# asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-${RUNS:-3}}
server=eightfold-bench-monitoring-server
agent=eightfold-bench-monitoring-agent12
work=$(mktemp -d)
export ANSIBLE_FORCE_COLOR=0
trap 'ansible-playbook bench/playbooks/monitoring_hosts.yml -e bench_state=absent >/dev/null; rm -rf "$work"' EXIT

cat > "$work/inventory.yml" <<INVENTORY
all:
  vars: {$BENCH_CONNECTION}
  children:
    monitoring:
      hosts: {$server: {}}
    agents:
      hosts: {$agent: {}, eightfold-bench-monitoring-agent13: {}}
INVENTORY

# A CA and a certificate per host for node_exporter's TLS.
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=bench-ca \
  -keyout "$work/tls/ca.key" -out "$work/tls/ca.crt" 2>/dev/null
for host in $server $agent eightfold-bench-monitoring-agent13; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" \
    -keyout "$work/tls/$host.key" -out "$work/tls/$host.csr" 2>/dev/null
  openssl x509 -req -in "$work/tls/$host.csr" -CA "$work/tls/ca.crt" -CAkey "$work/tls/ca.key" -CAcreateserial \
    -days 7 -extfile <(printf 'subjectAltName=DNS:%s' "$host") -out "$work/tls/$host.crt" 2>/dev/null
done

# Seconds (one decimal) of a run; its recap goes to $work/last.log. Arguments go to ansible-playbook.
timed_run() {
  timed "$work/last.log" \
    ansible-playbook -i "$work/inventory.yml" -e bench_tls_dir="$work/tls" "$@" bench/playbooks/monitoring.yml
}
changed() { sed -nE 's/^[a-z0-9-]+ +: .*changed=([0-9]+).*/\1/p' "$work/last.log" | paste -sd+ | bc; }
fresh_hosts() {
  ansible-playbook bench/playbooks/monitoring_hosts.yml -e bench_state=absent >/dev/null
  ansible-playbook bench/playbooks/monitoring_hosts.yml >/dev/null
}

first=() rerun=() rerun_changed=() agent_run=() agent_changed=()
for _ in $(seq "$runs"); do
  fresh_hosts
  first+=("$(timed_run)")
  rerun+=("$(timed_run)")
  rerun_changed+=("$(changed)")
  agent_run+=("$(timed_run --limit "$agent")")
  agent_changed+=("$(changed)")
done

echo "| First run, 3 fresh containers in parallel (median of $runs: ${first[*]}) | $(printf '%s\n' "${first[@]}" | median) s |"
echo "| Unchanged rerun, 3 hosts (median of $runs: ${rerun[*]}; changed: ${rerun_changed[*]}) |" \
  "$(printf '%s\n' "${rerun[@]}" | median) s |"
echo "| Unchanged run of one agent, --limit (median of $runs: ${agent_run[*]}; changed: ${agent_changed[*]}) |" \
  "$(printf '%s\n' "${agent_run[@]}" | median) s |"
