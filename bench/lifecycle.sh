#!/usr/bin/env bash
# Times the life cycle on the lab (inventories/lab: lb1, app1, app2, db1, db2, mon1): the lab brought up
# fresh, site.yml on it, RUNS unchanged re-runs of site.yml, then each phase for the lab's first version and
# for RUNS new versions (a new tag each), the deploy of each new version under a steady load through HAProxy
# (tools/loadgen.py on lb1) with its failed requests reported next to its time; medians per phase. Then
# lifecycle.yml again for the deployed version. Work files go to a temporary lifecycle_dir
# (EIGHTFOLD_LIFECYCLE_DIR) unless FRESH=0; the lab stays up at the end. Each time is also written to stderr as it is
# taken, so a run that fails part-way still shows what it measured.
# Usage: bench/lifecycle.sh [RUNS]   (default 3). Prints Markdown for docs/performance.md; asserts nothing.
#   FRESH=0  keep the lab as it is (up and converged by site.yml, as `make demo` leaves it): no fresh lab;
#            the new versions go into the lab's own lifecycle_dir.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
runs=${1:-${RUNS:-3}}
work=$(mktemp -d)
export ANSIBLE_FORCE_COLOR=0
# A fresh lab gets a temporary lifecycle_dir; FRESH=0 goes on in the lab's own (its repository and release
# store: the version deployed there must keep its artifact).
if [ "${FRESH:-1}" = 1 ]; then
  export EIGHTFOLD_LIFECYCLE_DIR=$work/lifecycle
else
  export EIGHTFOLD_LIFECYCLE_DIR=${EIGHTFOLD_LIFECYCLE_DIR:-$HOME/.cache/eightfold/lifecycle}
fi
trap 'rm -rf "$work"' EXIT
lb=eightfold-lab-lb1
# One line: sh -c would take a line break for the end of the command.
loadgen="python3 /usr/local/bin/eightfold-loadgen http://127.0.0.1/ --workers 4 --rate 60 --duration 900"
loadgen+=" --post-every 10 --stop-file /run/loadgen.stop --output /run/loadgen.json"

# Seconds of ansible-playbook "$@"; the time goes to stderr too, under the label $1.
play() {
  local label=$1 seconds
  shift
  seconds=$(timed "$work/last.log" ansible-playbook "$@")
  echo "$label: $seconds s" >&2
  echo "$seconds"
}
# "median s (all: t1 t2 ...)" of the numbers given.
summary() { echo "$(printf '%s\n' "$@" | median) s (all: $*)"; }
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

if [ "${FRESH:-1}" = 1 ]; then
  ansible-playbook playbooks/lab_down.yml >/dev/null
  lab_up=$(play lab playbooks/lab.yml)
  site_first=$(play "site.yml fresh" playbooks/site.yml)
fi
site_rerun=()
for _ in $(seq "$runs"); do site_rerun+=("$(play "site.yml unchanged" playbooks/site.yml)"); done
ansible-playbook playbooks/lab_repo.yml >/dev/null
docker cp tools/loadgen.py "$lb:/usr/local/bin/eightfold-loadgen"

# The lab's first version (deployed already when FRESH=0), then RUNS new ones under load.
declare -a plans codes builds tests releases monitors deploys failures
# New versions are <first version>.<minute of this run><run>: a later run on the same lab tags new ones.
stamp=$(date +%y%m%d%H%M)
version=$(cat samples/notes/src/notes/VERSION)
for run in $(seq 0 "$runs"); do
  if [ "$run" -gt 0 ]; then
    version=$(cat samples/notes/src/notes/VERSION).$stamp$run
    tag_version "$version"
  fi
  plans+=("$(play "plan $version" playbooks/plan.yml)")
  codes+=("$(play "code $version" playbooks/code.yml -e "code_ref=v$version")")
  builds+=("$(play "build $version" playbooks/build.yml -e "lifecycle_version=$version")")
  tests+=("$(play "test $version" playbooks/test.yml -e "lifecycle_version=$version")")
  releases+=("$(play "release $version" playbooks/release.yml -e "lifecycle_version=$version")")
  if [ "$run" -eq 0 ]; then
    deploy_first=$(play "deploy $version" playbooks/deploy.yml -e "lifecycle_version=$version")
  else
    load_start
    deploys+=("$(play "deploy $version under load" playbooks/deploy.yml -e "lifecycle_version=$version")")
    failures+=("$(load_stop)")
    echo "failed/total requests during that deploy: ${failures[-1]}" >&2
  fi
  monitors+=("$(play "monitor $version" playbooks/monitor.yml)")
done
lifecycle_same=$(play "lifecycle.yml, same version" playbooks/lifecycle.yml -e "code_ref=v$version")
same_changed=$(grep -v '^localhost' "$work/last.log" | sed -nE 's/^[a-z0-9-]+ +: .*changed=([0-9]+).*/\1/p' | paste -sd+ | bc)

phases=$((runs + 1))
[ "${FRESH:-1}" = 0 ] || echo "| lab.yml, fresh (6 hosts) | ${lab_up} s |"
[ "${FRESH:-1}" = 0 ] || echo "| site.yml, fresh lab | ${site_first} s |"
echo "| site.yml, unchanged (median of $runs) | $(summary "${site_rerun[@]}") |"
echo "| plan: preflight + site.yml in check mode (median of $phases) | $(summary "${plans[@]}") |"
echo "| code (median of $phases) | $(summary "${codes[@]}") |"
echo "| build (median of $phases) | $(summary "${builds[@]}") |"
echo "| test: unit tests on the artifact, audit of the fleet, smoke (median of $phases) | $(summary "${tests[@]}") |"
echo "| release (median of $phases) | $(summary "${releases[@]}") |"
echo "| deploy of the lab's first version$([ "${FRESH:-1}" = 1 ] && echo ' on fresh app hosts' || echo ', deployed already') | ${deploy_first} s |"
echo "| deploy of a new version to two app hosts under load (median of $runs; failed/total requests: ${failures[*]}) |" \
  "$(summary "${deploys[@]}") |"
echo "| monitor (median of $phases) | $(summary "${monitors[@]}") |"
echo "| lifecycle.yml again for the deployed version (changed on the hosts: ${same_changed}) | ${lifecycle_same} s |"
