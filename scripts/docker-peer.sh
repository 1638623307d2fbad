#!/usr/bin/env bash
# Installs the real peer the compose export is checked against, as root,
# idempotently: Debian's docker.io (dockerd and the docker CLI, 20.10) with
# no daemon started, and docker compose v2 built from the module that
# tools/compose/go.mod pins (cached by the hash of that pin, as deps.sh does
# for buildkitd), installed as a CLI plugin in a private DOCKER_CONFIG:
# $BIN/docker-config/cli-plugins/docker-compose. The tests start their own
# dockerd (test/integration/dockerd_test.go); nothing here talks to one.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${INCEPTION_TOOLS_CACHE:-/var/cache/inception/tools}
BIN=${BIN:-$PWD/bin}
GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go

if [ "$(id -u)" -ne 0 ]; then
  echo "docker-peer: run as root (apt-get): sudo make docker-peer" >&2
  exit 1
fi

if ! dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q "install ok installed"; then
  # Debian's maintainer scripts start the daemon through invoke-rc.d (or
  # deb-systemd-invoke under systemd), and both ask policy-rc.d first: one
  # that refuses every start (exit 101) stands for the install. A
  # policy-rc.d someone else put there is kept, if it refuses too.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# docker-peer: no daemon starts during the install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  elif ! grep -qx 'exit 101' "$policy"; then
    echo "docker-peer: $policy exists and may let dockerd start: install docker.io by hand with no daemon started" >&2
    exit 1
  fi
  echo "docker-peer: apt-get install docker.io (no daemon started)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  if [ -d /run/systemd/system ]; then
    # Not at the next boot either: the tests run their own dockerd.
    systemctl disable docker.service docker.socket >/dev/null 2>&1 || true
  fi
fi
for tool in /usr/bin/docker /usr/sbin/dockerd; do
  [ -x "$tool" ] || { echo "docker-peer: $tool missing after installing docker.io" >&2; exit 1; }
done

# docker compose v2 from its pinned module.
dir=tools/compose
version=$(awk '$1=="github.com/docker/compose/v2"{print $2}' "$dir/go.mod")
key=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)
cached="$CACHE/docker-compose-$key"
if [ ! -x "$cached" ]; then
  echo "docker-peer: building docker compose $version from $dir (once per pin; several minutes on a cold module cache)"
  mkdir -p "$CACHE"
  (cd "$dir" && "$GO" build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" \
    -o "$cached.tmp" github.com/docker/compose/v2/cmd)
  mv "$cached.tmp" "$cached"
fi
plugins="$BIN/docker-config/cli-plugins"
mkdir -p "$plugins"
if ! cmp -s "$cached" "$plugins/docker-compose"; then
  cp "$cached" "$plugins/docker-compose.tmp" && mv "$plugins/docker-compose.tmp" "$plugins/docker-compose"
fi
echo "docker-peer: ok ($(/usr/bin/docker --version); docker compose $version in $plugins)"
