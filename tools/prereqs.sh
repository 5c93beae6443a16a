#!/usr/bin/env bash
# Installs what the controller needs (Docker engine, image builder, SSH client) and starts dockerd.
# Usage: tools/prereqs.sh [--check]
#   --check  only report what is missing, in one line, and exit 1 if anything is; install nothing.
set -euo pipefail

packages=(docker.io mmdebstrap openssh-client git make)
commands=(dockerd mmdebstrap ssh git make)

missing=()
for i in "${!commands[@]}"; do
  command -v "${commands[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ "${1:-}" == "--check" ]]; then
    echo "missing: ${missing[*]} (install with: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: the Docker engine and image tools are missing; install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec "$(dirname "$0")/dockerd.sh" start
