#!/usr/bin/env bash
# Builds the execution environment (the image eightfold's ContainerExecutor and AWX run phases in) from
# meta/execution-environment.yml with ansible-builder: the collection tarball, then the image
# eightfold/ee:<collection version> (also tagged :latest). Needs docker (or podman), ansible-builder and
# ansible-galaxy (make venv), and the base image eightfold/debian:12 (make images).
# Usage: tools/build-ee.sh [--rebuild]     (--rebuild: build even when current, without the layer cache)
# The image is skipped when it exists with the label eightfold.ee.inputs equal to the hash of its inputs:
# this script, the EE definition, the collection's files, the extra CA certificates and the base image.
#
# Environment:
#   EIGHTFOLD_EE_REPOSITORY  image name (default eightfold/ee)
#   EIGHTFOLD_EE_RUNTIME     docker or podman (default: docker when present, else podman)
#   EIGHTFOLD_EE_CA_CERTS    PEM file(s), colon-separated, the build must trust in addition to the
#                            image's own CAs (default: the host's locally added CAs,
#                            /usr/local/share/ca-certificates/*.crt; "none": none). That is what makes
#                            pip and apt work behind a TLS-intercepting proxy.
#   HTTP_PROXY, HTTPS_PROXY, NO_PROXY (any case)  passed on as build args when set (explicit proxies).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
definition=meta/execution-environment.yml
repository=${EIGHTFOLD_EE_REPOSITORY:-eightfold/ee}
work=.cache/ee

rebuild=false
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=true ;;
    *) echo "usage: $0 [--rebuild]" >&2; exit 64 ;;
  esac
done

runtime=${EIGHTFOLD_EE_RUNTIME:-}
if [[ -z $runtime ]]; then
  if command -v docker >/dev/null; then runtime=docker
  elif command -v podman >/dev/null; then runtime=podman
  else echo "error: neither docker nor podman is on PATH" >&2; exit 1
  fi
fi
for tool in ansible-builder ansible-galaxy "$runtime"; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (make venv / make prereqs)" >&2; exit 1; }
done

base=$(sed -n '/^images:/,/^[a-z]/s/^ *name: *//p' "$definition" | head -n1)
base_id=$("$runtime" image inspect --format '{{.Id}}' "$base" 2>/dev/null) \
  || { echo "error: base image $base is missing (make images)" >&2; exit 1; }

# The collection, exactly one tarball where the definition looks for it.
rm -rf "$work/collection"
mkdir -p "$work/collection"
ansible-galaxy collection build --force --output-path "$work/collection" . >/dev/null
tarball=$(ls "$work"/collection/eightfold-devops-*.tar.gz)
version=$(basename "$tarball" .tar.gz)
version=${version#eightfold-devops-}
image="$repository:$version"

# Extra CA certificates: PEM text, handed to the build as the EE_EXTRA_CA_CERTS build arg.
ca_files=()
if [[ ${EIGHTFOLD_EE_CA_CERTS:-} == none ]]; then
  :
elif [[ -n ${EIGHTFOLD_EE_CA_CERTS:-} ]]; then
  IFS=: read -r -a ca_files <<<"$EIGHTFOLD_EE_CA_CERTS"
else
  shopt -s nullglob
  ca_files=(/usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt)
  shopt -u nullglob
fi
EE_EXTRA_CA_CERTS=""
for file in "${ca_files[@]}"; do
  [[ -r $file ]] || { echo "error: CA certificate $file is not readable" >&2; exit 1; }
  EE_EXTRA_CA_CERTS+="$(cat "$file")"$'\n'
done
export EE_EXTRA_CA_CERTS

# The inputs' hash: file contents, not the tarball (its mtimes change with every build).
inputs=$(
  {
    sha256sum "$0" "$definition"
    tar -xzOf "$tarball" MANIFEST.json FILES.json
    printf '%s' "$EE_EXTRA_CA_CERTS"
    echo "$base_id"
  } | sha256sum | cut -c1-16
)
current=$("$runtime" image inspect --format '{{ index .Config.Labels "eightfold.ee.inputs" }}' "$image" 2>/dev/null || true)
if [[ $rebuild == false && $current == "$inputs" ]]; then
  "$runtime" tag "$image" "$repository:latest"
  echo "$image: present (inputs $inputs), skipped"
  exit 0
fi

build_args=(--build-arg EE_EXTRA_CA_CERTS)  # the value comes from the environment, not the command line
[[ $rebuild == true ]] && build_args+=(--no-cache)
for name in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  [[ -n ${!name:-} ]] && build_args+=(--build-arg "$name")
done

previous=$("$runtime" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
echo "$image: building from $definition on $base (${#ca_files[@]} extra CA file(s))"
start=$(date +%s)
ansible-builder build --file "$definition" --context "$work/context" --container-runtime "$runtime" \
  --tag "$image" "$repository:latest" "${build_args[@]}" \
  --extra-build-cli-args "--label eightfold.ee.inputs=$inputs --label eightfold.ee.version=$version" \
  --verbosity "${EIGHTFOLD_EE_VERBOSITY:-2}"
echo "$image: built in $(( $(date +%s) - start )) s"
# The image it replaces, now untagged, would only take space.
if [[ -n $previous && $previous != "$("$runtime" image inspect --format '{{.Id}}' "$image")" ]]; then
  "$runtime" image rm "$previous" >/dev/null 2>&1 || true
fi
