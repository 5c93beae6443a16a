#!/usr/bin/env bash
# Overhead of eightfold.run_phase over plain ansible-playbook (median of N alternating runs) and the
# caller's memory over runs of 3,000 and 30,000 events. Usage: bench/runner_overhead.sh [N] [EVENTS,...]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$PWD/.collections}"
exec python bench/runner_overhead.py "${1:-5}" "${2:-3000,30000}"
