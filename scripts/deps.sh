#!/usr/bin/env bash
# Installs what inception needs on a Debian 12 host, as root, idempotently:
# Debian packages through apt, then buildkitd built from the buildkit module
# that tools/buildkitd/go.mod pins (cached by the hash of that pin, so it is
# rebuilt only when the pin changes).
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the headless browser of the acceptance suite (test/integration/acceptance_*).
# tini: the init of services that ask for one (compose's init: true), static so it runs in any image.
# docker-registry: distribution 2.8, the registry the push, pull and cache tests
# start on 127.0.0.1 with their own config (internal/testregistry).
PACKAGES=(containerd runc containernetworking-plugins mmdebstrap iptables iproute2 ca-certificates openssl curl chromium tini docker-registry)
CACHE=${INCEPTION_TOOLS_CACHE:-/var/cache/inception/tools}
BIN=${BIN:-$PWD/bin}

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: run as root (containerd, runc and mmdebstrap need it): sudo make deps" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's containerd package may start a system containerd; inception runs
# its own on its own sockets, so the two never meet.

# Debian's docker-registry package starts a registry on port 5000 for the
# whole machine. The tests run their own instances on free ports and never
# use it; stop and disable it so nothing listens that nobody asked for.
if [[ " ${missing[*]:-} " == *" docker-registry "* ]]; then
  if [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  else
    invoke-rc.d docker-registry stop >/dev/null 2>&1 || true
    update-rc.d docker-registry disable >/dev/null 2>&1 || true
  fi
fi

GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go
mkdir -p "$BIN"
build_tool() { # name module-dir package version-ldflags
  local name=$1 dir=$2 pkg=$3 ldflags=$4
  local key
  key=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)
  local cached="$CACHE/$name-$key"
  if [ ! -x "$cached" ]; then
    echo "deps: building $name from $dir (once per pin; a few minutes on a cold module cache)"
    mkdir -p "$CACHE"
    (cd "$dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$cached.tmp" "$pkg")
    mv "$cached.tmp" "$cached"
  fi
  if ! cmp -s "$cached" "$BIN/$name"; then
    cp "$cached" "$BIN/$name.tmp" && mv "$BIN/$name.tmp" "$BIN/$name"
  fi
}

bkversion=$(awk '$1=="github.com/moby/buildkit"{print $2}' tools/buildkitd/go.mod)
build_tool buildkitd tools/buildkitd github.com/moby/buildkit/cmd/buildkitd \
  "-s -w -X github.com/moby/buildkit/version.Version=$bkversion"
if [ "${INCEPTION_LINT:-1}" = 1 ]; then
  build_tool golangci-lint tools/lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "-s -w"
fi
echo "deps: ok (buildkitd $bkversion in $BIN)"
