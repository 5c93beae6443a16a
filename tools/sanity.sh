#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<namespace>/<name>; it runs on a copy of
# the tracked files there. With no plugins yet there is nothing for it to check.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git ls-files plugins | grep -q '\.py$'; then
  echo "sanity: no plugins yet, nothing to check"
  exit 0
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
target=$workdir/ansible_collections/eightfold/devops
mkdir -p "$target"
git ls-files -z | xargs -0 cp --parents -t "$target"
cd "$target"
git init -q && git add -A  # ansible-test reads the file list from git
ansible-test sanity --python "$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" \
  --requirements plugins
