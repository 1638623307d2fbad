#!/usr/bin/env bash
# measure-fresh.sh: `make up` on a machine as fresh as can be had without
# reinstalling it, the figure the README's first screen reports. As root:
#
#   - a fresh clone of this repository's HEAD (committed work only) in a
#     scratch directory, with a .env that keeps the stack's data and secrets
#     there too and publishes HTTPS on 127.0.0.1:$HTTPS_PORT (default 443)
#   - empty Go module and build caches (GOMODCACHE, GOCACHE) and an empty
#     tools cache (INCEPTION_TOOLS_CACHE): buildkitd is compiled again
#   - a new engine: its own root and run dir
#   - with --purge-packages only: apt-get purge of every package in
#     scripts/packages/*.txt, apt-get clean and the apt lists removed. This
#     takes containerd, runc, the CNI plugins and mmdebstrap away from every
#     other engine on the machine: run it only where nothing else uses them.
#
# Then `/usr/bin/time make up` until the stack is healthy and the site answers
# 200, and `make up` again with nothing changed. The stack, the engine and the
# scratch directory are removed at the end (--keep keeps them).
#
# --target build measures `make build` instead (no container runs, no port is
# published: safe beside another stack). With --target up no other inception
# stack may run on the machine: the stack's name and bridge are host-wide.
#
# Usage: scripts/measure-fresh.sh [--purge-packages] [--target up|build] [--keep]
set -euo pipefail
export LC_ALL=C

purge=0 keep=0 target=up
while [ $# -gt 0 ]; do
  case $1 in
  --purge-packages) purge=1 ;;
  --keep) keep=1 ;;
  --target)
    target=${2:-}
    shift
    ;;
  *)
    echo "usage: scripts/measure-fresh.sh [--purge-packages] [--target up|build] [--keep]" >&2
    exit 2
    ;;
  esac
  shift
done
case $target in up | build) ;; *) echo "--target: up or build" >&2; exit 2 ;; esac
if [ "$(id -u)" -ne 0 ]; then
  echo "measure-fresh: run as root (make up needs it)" >&2
  exit 1
fi
if [ "$target" = up ] && [ -e /sys/class/net/inc-inception ]; then
  echo "measure-fresh: an inception stack runs on this machine (bridge inc-inception); its name and bridge" >&2
  echo "are host-wide: take it down first (inceptionctl down, with its --root), or use --target build" >&2
  exit 1
fi
[ -x /usr/bin/time ] || { echo "measure-fresh: /usr/bin/time is missing: apt-get install time" >&2; exit 1; }

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /var/tmp/inception-fresh.XXXXXX)
run=$(mktemp -d /run/incf.XXXX) # short: socket paths end at 107 bytes
port=${HTTPS_PORT:-443}
domain=fresh.42.fr
export GOMODCACHE=$work/gomod GOCACHE=$work/gocache INCEPTION_TOOLS_CACHE=$work/tools
export INCEPTION_ROOT=$work/engine INCEPTION_RUN_DIR=$run
unset INCEPTION_BUILDKITD BUILDKIT_HOST CONTAINERD_ADDRESS
src=$work/src

cleanup() {
  if [ $keep = 1 ]; then
    echo "kept: $work (engine root $INCEPTION_ROOT, run dir $run); to remove:"
    echo "  $src/bin/inceptionctl --env-file $src/.env down --volumes; $src/bin/inceptionctl engine stop; rm -rf $work $run"
    return
  fi
  if [ -x "$src/bin/inceptionctl" ]; then
    (cd "$src" && bin/inceptionctl down --volumes >/dev/null 2>&1 || true
      bin/inceptionctl engine stop >/dev/null 2>&1 || true)
  fi
  rm -rf "$work" "$run" || echo "measure-fresh: could not remove all of $work" >&2
}
trap cleanup EXIT

if [ $purge = 1 ]; then
  mapfile -t pkgs < <(sed 's/#.*//' "$repo"/scripts/packages/*.txt | tr -s ' \t' '\n' | sed '/^$/d')
  mapfile -t installed < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null | awk '$2=="installed"{print $1}')
  echo "purging: ${installed[*]:-nothing installed}"
  if [ ${#installed[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${installed[@]}" >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -qq >/dev/null
  fi
  apt-get clean
  rm -rf /var/lib/apt/lists/*
fi

git clone -q --no-hardlinks "$repo" "$src"
cat >"$src/.env" <<ENV
LOGIN=fresh
DOMAIN_NAME=$domain
DATA_DIR=$work/data
SECRETS_DIR=$work/secrets
HOST_IP=127.0.0.1
HTTPS_PORT=$port
FTP_PORT=${FTP_PORT:-22121}
FTP_PASV_MIN=${FTP_PASV_MIN:-22200}
FTP_PASV_MAX=${FTP_PASV_MAX:-22210}
ENV
echo "fresh clone of $(git -C "$repo" rev-parse --short HEAD) in $src; engine $INCEPTION_ROOT; caches empty"
echo

cd "$src"
/usr/bin/time -f '%e' -o "$work/time1" make "$target" 2>&1 | tee "$work/make1.log"
first=$(tail -n 1 "$work/time1")
answer=-
if [ "$target" = up ]; then
  answer=$(curl -sk -o /dev/null -m 10 -w '%{http_code}' --resolve "$domain:$port:127.0.0.1" "https://$domain:$port/" || true)
fi
echo
echo "---- make $target again, nothing changed"
/usr/bin/time -f '%e' -o "$work/time2" make "$target" 2>&1 | tee "$work/make2.log"
second=$(tail -n 1 "$work/time2")

echo
echo "==== $(date -u +%F) $(nproc) CPUs, $(git rev-parse --short HEAD), purge-packages=$purge"
echo "make $target on a fresh clone: ${first} s (site: HTTP $answer)"
echo "make $target again, nothing changed: ${second} s"
echo "steps (first run):"
grep -E '^  [a-z]+ +(done|up to date|failed) ' "$work/make1.log" | sed 's/^/  /' || true
