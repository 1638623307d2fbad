#!/usr/bin/env bash
# Installs what inception needs on a Debian 12 host, as root, idempotently.
#
#   deps.sh run              packages/run.txt + buildkitd: build and run the stack
#   deps.sh test             the above + packages/test.txt + golangci-lint: the tests
#   deps.sh packages run|test    (missing run|test: only list what is missing)
#   deps.sh buildkitd|golangci-lint
#
# Packages come from apt (lists in scripts/packages/, one package a line).
# buildkitd and golangci-lint are built from the modules tools/*/go.mod pins,
# cached in $INCEPTION_TOOLS_CACHE (default /var/cache/inception/tools) by the
# hash of the pin, so they are rebuilt only when the pin changes, then copied
# into $BIN (default ./bin).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${INCEPTION_TOOLS_CACHE:-/var/cache/inception/tools}
BIN=${BIN:-$PWD/bin}
GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: run as root (containerd, runc and mmdebstrap need it): sudo make deps" >&2
  exit 1
fi

# tell TEXT: when there is work to do, what it is and how long it takes,
# into $DEPS_NOTE (scripts/setup.sh shows it beside the step).
tell() { if [ -n "${DEPS_NOTE:-}" ]; then printf '%s' "$*" >"$DEPS_NOTE"; fi; }

# package_list FILE...: the packages the files name.
package_list() { sed 's/#.*//' "$@" | tr -s ' \t' '\n' | sed '/^$/d'; }

# missing run|test: the packages of the lists that are not installed, one a
# line; one dpkg-query for all.
missing() {
  local files=(scripts/packages/run.txt) want
  case ${1:-} in
  run) ;;
  test) files+=(scripts/packages/test.txt) ;;
  *) echo "deps: missing run|test" >&2; return 2 ;;
  esac
  mapfile -t want < <(package_list "${files[@]}")
  # dpkg-query exits 1 when it has never heard of a package (a fresh
  # machine's case): those are missing too.
  { dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${want[@]}" 2>/dev/null || [ $? -eq 1 ]; } |
    awk '$2=="installed"{print $1}' | sort | comm -13 - <(printf '%s\n' "${want[@]}" | sort)
}

# packages run|test: apt-get install whatever of the lists is missing.
packages() {
  local m
  m=$(missing "${1:-}") || { echo "deps: could not list the installed packages (dpkg-query -W)" >&2; return 1; }
  if [ -z "$m" ]; then
    echo "deps: the $1 packages are installed"
    return 0
  fi
  mapfile -t m <<<"$m"
  tell "one-time: apt-get install ${m[*]}, about 1 min"
  echo "deps: apt-get install ${m[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${m[@]}"
  # Debian's containerd package may start a system containerd; inception
  # runs its own on its own sockets, so the two never meet.
  # Debian's docker-registry package starts a registry on port 5000 for the
  # whole machine. The tests run their own instances on free ports and never
  # use it; stop and disable it so nothing listens that nobody asked for.
  if [[ " ${m[*]} " == *" docker-registry "* ]]; then
    if [ -d /run/systemd/system ]; then
      systemctl disable --now docker-registry >/dev/null 2>&1 || true
    else
      invoke-rc.d docker-registry stop >/dev/null 2>&1 || true
      update-rc.d docker-registry disable >/dev/null 2>&1 || true
    fi
  fi
}

# build_tool name module-dir package ldflags: build once per pin into the
# cache, copy into $BIN when it differs.
build_tool() {
  local name=$1 dir=$2 pkg=$3 ldflags=$4 key cached
  key=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)
  cached="$CACHE/$name-$key"
  if [ ! -x "$cached" ]; then
    tell "one-time per $name version: compiling $name, about 4 min on 2 cores"
    echo "deps: building $name from $dir (once per pin)"
    mkdir -p "$CACHE"
    (cd "$dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$cached.tmp" "$pkg")
    mv "$cached.tmp" "$cached"
  fi
  mkdir -p "$BIN"
  # The copy keeps the cache's time stamp: same size and time is the same
  # file, without reading 60 MB (make up with nothing changed stays fast).
  if [ ! -e "$BIN/$name" ] || [ "$(stat -c '%s %Y' "$cached" "$BIN/$name" | uniq | wc -l)" != 1 ]; then
    cp --preserve=timestamps "$cached" "$BIN/$name.tmp" && mv "$BIN/$name.tmp" "$BIN/$name"
  fi
  echo "deps: $name ok ($BIN/$name)"
}

# tool_cached name module-dir: whether the pinned build is in the cache.
tool_cached() { [ -x "$CACHE/$1-$(cat "$2/go.mod" "$2/go.sum" | sha256sum | cut -c1-16)" ]; }

buildkitd() {
  local v
  v=$(awk '$1=="github.com/moby/buildkit"{print $2}' tools/buildkitd/go.mod)
  build_tool buildkitd tools/buildkitd github.com/moby/buildkit/cmd/buildkitd \
    "-s -w -X github.com/moby/buildkit/version.Version=$v"
}

golangci_lint() {
  build_tool golangci-lint tools/lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "-s -w"
}

case ${1:-run} in
run) packages run && buildkitd ;;
test) packages test && buildkitd && golangci_lint ;;
packages) packages "${2:-}" ;;
missing) missing "${2:-}" ;;
buildkitd) buildkitd ;;
golangci-lint) golangci_lint ;;
cached) # cached buildkitd|golangci-lint: exit 0 when no build is needed
  case ${2:-} in
  buildkitd) tool_cached buildkitd tools/buildkitd ;;
  golangci-lint) tool_cached golangci-lint tools/lint ;;
  *) echo "deps: cached buildkitd|golangci-lint" >&2; exit 2 ;;
  esac ;;
*)
  echo "usage: deps.sh [run|test|packages run|test|buildkitd|golangci-lint|cached TOOL]" >&2
  exit 2
  ;;
esac
