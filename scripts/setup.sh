#!/usr/bin/env bash
# The set-up behind `make build` and `make up`: every step that does not need
# another runs at the same time as it, each into its own log, and the
# terminal shows one line per step with its state and elapsed time.
#
#   packages      apt-get install of scripts/packages/run.txt     one-time
#   buildkitd     compiled from tools/buildkitd's pin             one-time per pin
#   inceptionctl  go build (the first one downloads the modules)
#   base          debian:bookworm with mmdebstrap, in containerd  one-time
#                 (needs packages and inceptionctl; no buildkitd)
#   images        inceptionctl build (needs buildkitd and base)
#   up            inceptionctl up -d --wait $UP_FLAGS (make up only)
#
# buildkitd and inceptionctl start at once when the host has a CA bundle
# (they only fetch Go modules), else after packages. A step whose work is
# already done ends in milliseconds ("up to date"), so that a make with
# nothing changed takes about a second.
#
# Usage: scripts/setup.sh build|up     (root; env BIN, GO, UP_FLAGS)
# Logs: $BIN/logs/<step>.log
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-}
case $target in
build | up) ;;
*) echo "usage: scripts/setup.sh build|up" >&2; exit 2 ;;
esac
BIN=${BIN:-$PWD/bin}
CTL=$BIN/inceptionctl
GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go
export BIN GO
UP_FLAGS=${UP_FLAGS:-}
LOGS=$BIN/logs
mkdir -p "$LOGS"
STATE=$(mktemp -d /tmp/inception-setup.XXXXXX)

# ---- the steps: each runs in a subshell, output into its log ----------------
# note TEXT: shown beside the step while it runs (what it is, how long).
note() { printf '%s' "$*" >"$STATE/$step.note"; }
# fresh: the step found its work done.
fresh() { : >"$STATE/$step.fresh"; }

# deps.sh writes the note when it has work to do: no note, nothing done.
step_packages() {
  DEPS_NOTE=$STATE/$step.note scripts/deps.sh packages run
  [ -s "$STATE/$step.note" ] || fresh
}

step_buildkitd() {
  DEPS_NOTE=$STATE/$step.note scripts/deps.sh buildkitd
  [ -s "$STATE/$step.note" ] || fresh
}

step_inceptionctl() {
  # Up to date when no Go source, go.mod, go.sum or directory (a file added
  # or removed) is newer than the binary.
  if [ -x "$CTL" ] && [ -z "$(find cmd pkg internal go.mod go.sum -newer "$CTL" -print -quit)" ]; then
    fresh
    return
  fi
  [ -x "$CTL" ] || note "first build: downloads the Go modules, about 1 min"
  "$GO" build -trimpath -o "$CTL.tmp" ./cmd/inceptionctl
  mv "$CTL.tmp" "$CTL"
}

step_base() {
  note "one-time: debian:bookworm from the Debian mirror with mmdebstrap, about 2 min"
  "$CTL" base 2>&1 | tee "$STATE/base.out"
  if grep -q ' reused$' "$STATE/base.out"; then fresh; fi
}

step_images() {
  note "the first build installs every image's packages, about 3 min; then only what changed"
  "$CTL" build --progress plain
  # Nothing solved: every image was up to date.
  if ! grep -q '^#[0-9]* DONE' "$LOGS/images.log"; then fresh; fi
}

step_up() {
  # The site's address and hosts line (stdout) are for the terminal too.
  # shellcheck disable=SC2086
  "$CTL" up -d --wait --wait-timeout 10m --progress plain $UP_FLAGS >"$STATE/up.out"
  cat "$STATE/up.out"
}

# The scheduler's tests replace the steps with their own.
if [ -n "${INCEPTION_SETUP_STEPS:-}" ]; then
  # shellcheck source=/dev/null
  source "$INCEPTION_SETUP_STEPS"
fi

# ---- the schedule -----------------------------------------------------------
steps=(packages buildkitd inceptionctl base images)
[ "$target" = up ] && steps+=(up)
declare -A needs=(
  [packages]=""
  [buildkitd]=""
  [inceptionctl]=""
  [base]="packages inceptionctl"
  [images]="buildkitd base inceptionctl"
  [up]="images"
)
# The Go module proxy needs a CA bundle; a host without one gets it from
# the packages first.
if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
  needs[buildkitd]=packages
  needs[inceptionctl]=packages
fi

declare -A state=() started=() ended=() pid_step=()
for s in "${steps[@]}"; do state[$s]=waiting; done

# Nothing below forks a process while the steps run: a make with nothing
# changed is mostly this loop's own time.
# now_ms: the time in ms, into $NOW.
now_ms() { NOW=${EPOCHREALTIME/./}; NOW=$((NOW / 1000)); }
# elapsed MS: 0.4s, 12s, 3m05s, into $ELAPSED.
elapsed() {
  local ms=$1
  if [ "$ms" -lt 10000 ]; then
    printf -v ELAPSED '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
  elif [ "$ms" -lt 60000 ]; then
    printf -v ELAPSED '%ds' $((ms / 1000))
  else
    printf -v ELAPSED '%dm%02ds' $((ms / 60000)) $((ms % 60000 / 1000))
  fi
}

# line STEP: the step's line, without a newline, into $LINE.
line() {
  local s=$1 st=${state[$1]} extra=""
  ELAPSED=""
  case $st in
  running)
    now_ms
    elapsed $((NOW - started[$s]))
    if [ -s "$STATE/$s.note" ]; then extra="  ($(<"$STATE/$s.note"))"; fi
    ;;
  done | "up to date" | failed)
    elapsed $((ended[$s] - started[$s]))
    if [ "$st" = failed ]; then extra="  (log: $LOGS/$s.log)"; fi
    ;;
  esac
  printf -v LINE '  %-13s %-11s %7s%s' "$s" "$st" "$ELAPSED" "$extra"
}

tty=0 cols=80
if [ -t 1 ] && [ "${TERM:-dumb}" != dumb ]; then
  tty=1
  # A line longer than the terminal would wrap and break the redraw.
  read -r _ cols < <(stty size 2>/dev/null </dev/tty || echo 24 80) || true
  [ "${cols:-0}" -gt 20 ] 2>/dev/null || cols=80
fi
drawn=0
declare -A announced=()
# draw: on a terminal, the block of step lines redrawn in place; otherwise a
# line when a step has run for 2 s (with its note) and one when it ends.
draw() {
  local s
  if [ $tty = 1 ]; then
    if [ $drawn -gt 0 ]; then printf '\e[%dA' $drawn; fi
    for s in "${steps[@]}"; do
      line "$s"
      printf '\r%s\e[K\n' "${LINE:0:cols-1}"
    done
    drawn=${#steps[@]}
    return
  fi
  now_ms
  for s in "${steps[@]}"; do
    case ${state[$s]} in
    running)
      if [ -z "${announced[$s]:-}" ] && [ $((NOW - started[$s])) -ge 2000 ]; then
        announced[$s]=1
        line "$s"
        echo "$LINE"
      fi
      ;;
    done | "up to date" | failed)
      if [ "${announced[$s]:-}" != end ]; then
        announced[$s]=end
        line "$s"
        echo "$LINE"
      fi
      ;;
    esac
  done
}

start_ready() {
  local s d ok
  for s in "${steps[@]}"; do
    [ "${state[$s]}" = waiting ] || continue
    ok=1
    for d in ${needs[$s]}; do
      case ${state[$d]} in
      done | "up to date") ;;
      *) ok=0 ;;
      esac
    done
    [ $ok = 1 ] || continue
    state[$s]=running
    now_ms
    started[$s]=$NOW
    (
      step=$s
      set -euo pipefail
      printf -- '---- %(%FT%T%z)T %s\n' -1 "$s"
      "step_$s"
    ) >"$LOGS/$s.log" 2>&1 </dev/null &
    pid_step[$!]=$s
  done
}

# Each step runs in a process group of its own (job control): Ctrl-C reaches
# this script only, which stops every running step, whole, and says so.
set -m
ticker=
cleanup() {
  if [ -n "$ticker" ]; then
    kill "$ticker" 2>/dev/null || true
    wait "$ticker" 2>/dev/null || true
  fi
  rm -rf "$STATE"
}
interrupted() {
  local p s stopped=()
  trap - INT TERM
  for p in "${!pid_step[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  wait
  for s in "${steps[@]}"; do
    if [ "${state[$s]}" = running ]; then stopped+=("$s"); fi
  done
  echo
  echo "setup: interrupted; stopped: ${stopped[*]:-nothing}"
  exit 130
}
trap cleanup EXIT
trap "interrupted 2>/dev/null" INT TERM # no job reports

now_ms
t0=$NOW
echo "setup ($target): one line per step, logs in $LOGS/"
failed=
start_ready
while [ ${#pid_step[@]} -gt 0 ]; do
  if [ -z "$ticker" ]; then
    sleep 1 &
    ticker=$!
  fi
  draw
  rc=0
  wait -n -p done_pid || rc=$?
  if [ "$done_pid" = "$ticker" ]; then
    ticker=
    continue
  fi
  s=${pid_step[$done_pid]}
  unset "pid_step[$done_pid]"
  now_ms
  ended[$s]=$NOW
  if [ $rc -ne 0 ]; then
    state[$s]=failed
    failed+=" $s"
  elif [ -e "$STATE/$s.fresh" ]; then
    state[$s]="up to date"
  else
    state[$s]=done
  fi
  # After a failure, what runs finishes (a compile or a bootstrap cut off
  # halfway helps nobody) but nothing new starts.
  [ -n "$failed" ] || start_ready
done
draw

if [ -n "$failed" ]; then
  for s in $failed; do
    echo
    echo "setup: $s failed; the end of $LOGS/$s.log:"
    tail -n 25 "$LOGS/$s.log"
  done
  exit 1
fi
if [ "$target" = up ]; then
  grep -h '^secrets: ' "$LOGS/up.log" || true
  cat "$STATE/up.out"
fi
now_ms
elapsed $((NOW - t0))
echo "setup ($target): done in $ELAPSED"
