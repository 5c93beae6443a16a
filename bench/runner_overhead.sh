#!/usr/bin/env bash
# Overhead of eightfold.run_phase over plain ansible-playbook (median of N alternating runs) and the
# caller's memory over a 10,000-event run. Usage: bench/runner_overhead.sh [N] [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$PWD/.collections}"
exec python bench/runner_overhead.py "${1:-5}" "${2:-10000}"
