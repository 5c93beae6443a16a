#!/usr/bin/env bash
# ansible-test sanity on the collection's plugins, offline except for PyPI.
#
# ansible-test needs the collection at ansible_collections/<namespace>/<name>, so it runs on a copy of the
# tracked files (git ls-files: commit or `git add` a file for it to count) placed there.
#
# How it runs here:
# - --venv: each test gets its own virtual environment with the pinned tool versions ansible-test wants
#   (pylint, voluptuous, yamllint...), installed from PyPI with --requirements. No Docker image: the
#   default test image cannot be pulled on these machines.
# - Those environments live under .cache/ansible-test (ansible-test puts them in $HOME/.ansible/test, so HOME
#   points there), with the copy of the collection: the first run builds them (about 3 minutes), later runs
#   reuse them (about a minute). `make clean` drops them.
# - ansible-test bootstraps pip in a fresh environment with get-pip.py from ci-files.testing.ansible.com,
#   which is not reachable. A stand-in with the same name in its cache does the same from PyPI: ensurepip,
#   then `pip install` of the pinned packages.
# - Only the controller's Python (3.11) is tested: --python 3.11. Modules also run on Debian 13's 3.13,
#   which the unit tests cover with a real container run; `compile` for every Python version would need
#   interpreters that are not installed here.
# - Targets: plugins/ and meta/ only. The rest (src/, tools/, tests/) is Python checked by ruff and pytest.
# - Tests skipped deliberately (SKIP below): shellcheck (no shellcheck binary, and no shell in plugins/),
#   pslint (no PowerShell), changelog (the collection keeps no changelogs/ fragments yet).
#
# Usage: tools/sanity.sh [extra ansible-test arguments, e.g. --test validate-modules -v]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if ! git ls-files plugins | grep -q '\.py$'; then
  echo "sanity: no plugins yet, nothing to check"
  exit 0
fi

PYTHON_VERSION=3.11
SKIP=(--skip-test shellcheck --skip-test pslint --skip-test changelog)

export HOME=$root/.cache/ansible-test
# The pip version ansible-test bootstraps names the script it looks for.
at_dir=$(python3 -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pip_version=$(grep -oP "pip='\K[0-9.]+" "$at_dir/_internal/python_requirements.py" | head -n1)
shim=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [[ ! -s $shim ]]; then
  mkdir -p "$(dirname "$shim")"
  cat >"$shim" <<'EOF'
"""Offline stand-in for get-pip.py (ci-files.testing.ansible.com is unreachable): ensurepip, then pip install."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *args])
EOF
fi

# A fixed place for the copy, so that ansible-test's own controller environment (tests/output/.tmp/delegation)
# survives between runs; the copy itself is refreshed from the tracked files every time. flock: one run at a time.
copy=$HOME/copy
target=$copy/ansible_collections/eightfold/devops
mkdir -p "$target"
exec 9>"$copy/.lock"
flock 9
find "$target" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
if [[ -d $target/tests ]]; then
  find "$target/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
fi
git ls-files -z | xargs -0 cp --parents -t "$target"
cd "$target"
git init -q
echo "tests/output/" >.git/info/exclude
git add -A # ansible-test reads the file list from git

ansible-test sanity --venv --requirements --python "$PYTHON_VERSION" "${SKIP[@]}" "$@" plugins/ meta/
