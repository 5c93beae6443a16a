#!/usr/bin/env bash
# Installs what the controller needs (Docker engine, image builder, SSH client) and starts dockerd.
# Usage: tools/prereqs.sh   (as root on Debian; anywhere else it names what to install, in one line)
set -euo pipefail

packages=(docker.io mmdebstrap openssh-client git make)
commands=(dockerd mmdebstrap ssh git make)

missing=()
for i in "${!commands[@]}"; do
  command -v "${commands[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing ${missing[*]}; install as root on Debian: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec "$(dirname "$0")/dockerd.sh" start
