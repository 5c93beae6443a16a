#!/usr/bin/env bash
# Times the life cycle on the lab (inventories/lab: lb1, app1, app2, db1, db2, mon1): the lab brought up
# fresh, site.yml on it, RUNS unchanged re-runs of site.yml, then each phase; the deploy of a new version
# RUNS times (a new tag each time), each under a steady load through HAProxy (tools/loadgen.py on lb1),
# with the failed requests of each deploy reported next to its time. Work files go to a temporary
# lifecycle_dir (EIGHTFOLD_LIFECYCLE_DIR); the lab stays up at the end.
# Usage: bench/lifecycle.sh [RUNS]   (default 3). Prints Markdown for docs/performance.md; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-${RUNS:-3}}
work=$(mktemp -d)
export ANSIBLE_FORCE_COLOR=0 EIGHTFOLD_LIFECYCLE_DIR=$work/lifecycle
trap 'rm -rf "$work"' EXIT
lb=eightfold-lab-lb1
# One line: sh -c would take a line break for the end of the command.
loadgen="python3 /usr/local/bin/eightfold-loadgen http://127.0.0.1/ --workers 4 --rate 60 --duration 900"
loadgen+=" --post-every 10 --stop-file /run/loadgen.stop --output /run/loadgen.json"

play() { timed "$work/last.log" ansible-playbook "$@"; }
# Commits VERSION=$1 on the lab repository's main line and tags it v$1.
tag_version() {
  local clone=$work/clone
  rm -rf "$clone"
  git clone -q "$EIGHTFOLD_LIFECYCLE_DIR/notes.git" "$clone"
  git -C "$clone" checkout -q "$(git -C "$clone" tag --sort=-v:refname | head -n 1)"
  echo "$1" > "$clone/src/notes/VERSION"
  git -C "$clone" -c user.name=bench -c user.email=bench@eightfold.invalid commit -qam "notes $1"
  git -C "$clone" tag "v$1"
  git -C "$clone" push -q origin "v$1"
}
load_start() {
  docker exec "$lb" rm -f /run/loadgen.stop /run/loadgen.json
  docker exec -d "$lb" sh -c "exec $loadgen"
}
# Prints "failed/total" of the load since load_start.
load_stop() {
  docker exec "$lb" touch /run/loadgen.stop
  for _ in $(seq 30); do docker exec "$lb" test -s /run/loadgen.json && break; sleep 1; done
  docker exec "$lb" cat /run/loadgen.json | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["failed"], r["total"], sep="/")'
}

ansible-playbook playbooks/lab_down.yml >/dev/null
lab_up=$(play playbooks/lab.yml)
site_first=$(play playbooks/site.yml)
site_rerun=()
for _ in $(seq "$runs"); do site_rerun+=("$(play playbooks/site.yml)"); done
ansible-playbook playbooks/lab_repo.yml >/dev/null
docker cp tools/loadgen.py "$lb:/usr/local/bin/eightfold-loadgen"

# The first version, phase by phase.
version=$(cat samples/notes/src/notes/VERSION)
plan=$(play playbooks/plan.yml)
code=$(play playbooks/code.yml -e "code_ref=v$version")
build=$(play playbooks/build.yml -e "lifecycle_version=$version")
test=$(play playbooks/test.yml -e "lifecycle_version=$version")
release=$(play playbooks/release.yml -e "lifecycle_version=$version")
deploy_first=$(play playbooks/deploy.yml -e "lifecycle_version=$version")
monitor=$(play playbooks/monitor.yml)

# New versions under load.
deploys=() failures=()
for run in $(seq "$runs"); do
  version=$(cat samples/notes/src/notes/VERSION).$run
  tag_version "$version"
  ansible-playbook playbooks/code.yml playbooks/build.yml playbooks/release.yml \
    -e "code_ref=v$version" -e "lifecycle_version=$version" >/dev/null
  load_start
  deploys+=("$(play playbooks/deploy.yml -e "lifecycle_version=$version")")
  failures+=("$(load_stop)")
done
lifecycle_same=$(play playbooks/lifecycle.yml -e "code_ref=v$version")
same_changed=$(grep -v '^localhost' "$work/last.log" | sed -nE 's/^[a-z0-9-]+ +: .*changed=([0-9]+).*/\1/p' | paste -sd+ | bc)

echo "| lab.yml, fresh (6 hosts) | ${lab_up} s |"
echo "| site.yml, fresh lab | ${site_first} s |"
echo "| site.yml, unchanged (median of $runs: ${site_rerun[*]}) | $(printf '%s\n' "${site_rerun[@]}" | median) s |"
echo "| plan (preflight + site.yml in check mode) | ${plan} s |"
echo "| code | ${code} s |"
echo "| build | ${build} s |"
echo "| test (unit tests on the artifact, audit of the fleet, smoke) | ${test} s |"
echo "| release | ${release} s |"
echo "| deploy, first version on fresh app hosts | ${deploy_first} s |"
echo "| monitor | ${monitor} s |"
echo "| deploy of a new version to two app hosts under load (median of $runs: ${deploys[*]}; failed/total requests: ${failures[*]}) |" \
  "$(printf '%s\n' "${deploys[@]}" | median) s |"
echo "| lifecycle.yml again for the deployed version (changed on the hosts: ${same_changed}) | ${lifecycle_same} s |"
