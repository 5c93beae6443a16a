#!/usr/bin/env bash
# Builds the lab's systemd-ready Debian host images from Debian's package mirror (no registry needed):
# mmdebstrap writes a root file system, `docker import` turns it into eightfold/debian:<release>.
# Usage: tools/build-images.sh [--rebuild] [RELEASE...]     (releases: 12 13; default: both)
# An image is skipped when it exists and was built from this same recipe (label eightfold.recipe).
set -euo pipefail

mirror=${EIGHTFOLD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${EIGHTFOLD_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
repository=${EIGHTFOLD_IMAGE_REPOSITORY:-eightfold/debian}
packages=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,openssh-server,ca-certificates,iproute2,procps

rebuild=false
releases=()
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=true ;;
    12|13) releases+=("$arg") ;;
    *) echo "usage: $0 [--rebuild] [12] [13]" >&2; exit 64 ;;
  esac
done
[[ ${#releases[@]} -gt 0 ]] || releases=(12 13)

command -v mmdebstrap >/dev/null || { echo "error: mmdebstrap is missing; run tools/prereqs.sh" >&2; exit 1; }
# The recipe hash changes whenever this script changes, so a stale image is rebuilt by itself.
recipe=$(sha256sum "$0" | cut -c1-16)

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

codename() { case "$1" in 12) echo bookworm ;; 13) echo trixie ;; esac; }

for release in "${releases[@]}"; do
  image="$repository:$release"
  current=$(docker image inspect --format '{{ index .Config.Labels "eightfold.recipe" }}' "$image" 2>/dev/null || true)
  if [[ $rebuild == false && $current == "$recipe" ]]; then
    echo "$image: present (recipe $recipe), skipped"
    continue
  fi
  suite=$(codename "$release")
  echo "$image: building from $mirror ($suite)"
  start=$(date +%s)
  mmdebstrap --quiet --variant=apt --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --skip=cleanup/apt/lists \
    --customize-hook='chroot "$1" systemctl --quiet mask getty@tty1.service console-getty.service systemd-firstboot.service' \
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
    --customize-hook='printf "%s\n" "[Unit]" "Description=Generate SSH host keys unique to this host" \
        "Before=ssh.service" "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key" \
        "[Service]" "Type=oneshot" "ExecStart=/usr/bin/ssh-keygen -A" \
        "[Install]" "RequiredBy=ssh.service" > "$1"/etc/systemd/system/ssh-host-keys.service' \
    --customize-hook='chroot "$1" systemctl --quiet enable ssh-host-keys.service ssh.service 2>/dev/null' \
    --customize-hook=': > "$1"/etc/machine-id' \
    "$suite" "$workdir/rootfs.tar" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security_mirror $suite-security main"
  # systemd halts on SIGRTMIN+3; `docker import` cannot set STOPSIGNAL, so the lab sets it per container.
  docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=docker' \
    --change "LABEL eightfold.recipe=$recipe eightfold.release=$release" \
    "$workdir/rootfs.tar" "$image" >/dev/null
  rm -f "$workdir/rootfs.tar"
  echo "$image: built in $(( $(date +%s) - start )) s"
done
