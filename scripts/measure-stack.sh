#!/usr/bin/env bash
# measure-stack.sh: the Inception stack's start-up and recovery times, as the
# README's "Measured" table reports them. Runs bin/inceptionctl
# against the engine it finds (INCEPTION_ROOT / INCEPTION_RUN_DIR, default the
# embedded one), with a stack configured in a scratch directory: HTTPS on
# 127.0.0.1:${HTTPS_PORT:-8443}, FTP on 127.0.0.1 high ports, data and secrets
# in the scratch directory. The images must be built (`make build`). The
# stack is taken down with its volumes at the end. Next to another stack on
# the machine: COMPOSE_PROJECT_NAME, INCEPTION_SUBNET, HTTPS_PORT and
# FTP_PORT (the passive ports follow it) keep them apart.
#
#   first boot   `up -d` with empty volumes to the home page answering 200
#   second boot  `up -d` after a `down` that kept the volumes, same end
#   kill         kill -9 of mariadbd on the host to the home page answering
#                200 again (mariadb having run 11 s; holder starts mariadbd
#                again in its container, or where there is no holder the
#                supervisor restarts it without back-off)
#
# Usage: scripts/measure-stack.sh [RUNS]   (default 3 boots of each kind, 5 kills)
set -euo pipefail

runs=${1:-3}
kills=$((runs + 2))
bin=$(cd "$(dirname "$0")/.." && pwd)/bin/inceptionctl
port=${HTTPS_PORT:-8443}
ftp=${FTP_PORT:-22121}
project=${COMPOSE_PROJECT_NAME:-inception}
work=$(mktemp -d /tmp/inception-measure.XXXXXX)
domain=measure.42.fr

cat >"$work/.env" <<EOF
LOGIN=measure
DOMAIN_NAME=$domain
DATA_DIR=$work/data
SECRETS_DIR=$work/secrets
HOST_IP=127.0.0.1
HTTPS_PORT=$port
FTP_PORT=$ftp
FTP_PASV_MIN=$((ftp + 1))
FTP_PASV_MAX=$((ftp + 3))
EOF

ctl() { "$bin" "$@" --env-file "$work/.env"; }
cleanup() {
    ctl down --volumes >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }

# wait_site returns once GET / answers 200. One curl process asks every
# 20 ms (--rate: a request starts 20 ms after the one before, or when it
# ends if it took longer), each request with a 2 s limit, on one kept-alive
# connection once nginx answers; it prints each answer's status. A curl
# process per try, and a sleep between tries, took about a sixth of the
# two CPUs of the boots it timed.
for ((i = 0; i < 3000; i++)); do
    printf 'url = "https://%s:%s/"\noutput = "/dev/null"\n' "$domain" "$port"
done >"$work/poll.curlrc"
wait_site() {
    local code poller poll
    # The statuses go to stderr, which curl does not buffer.
    exec {poll}< <(exec curl -sk -m 2 --rate 50/s -K "$work/poll.curlrc" -w '%{stderr}%{http_code}\n' \
        --resolve "$domain:$port:127.0.0.1" 2>&1 >/dev/null)
    poller=$!
    while read -r -u "$poll" code; do
        [ "$code" != 200 ] || break
    done
    kill "$poller" 2>/dev/null || true
    exec {poll}<&-
    [ "$code" = 200 ] || { echo "the site did not answer 200 within a minute" >&2; return 1; }
}
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f s (%.2f-%.2f, %d runs)\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2), a[1], a[NR], NR}'; }

# boot KIND: down (with the volumes for a first boot), then time up -d to 200.
boot() {
    if [ "$1" = first ]; then ctl down --volumes >/dev/null 2>&1 || true; else ctl down >/dev/null 2>&1; fi
    local t0
    t0=$(now)
    ctl up -d --progress quiet >"$work/up.log" 2>&1 &
    local up=$!
    wait_site
    echo "$(now) - $t0" | bc
    wait "$up" || { cat "$work/up.log" >&2; return 1; }
}

# mariadbd_pid: this stack's mariadbd (its cgroup names the container, so
# other stacks' on the host are left alone).
mariadbd_pid() {
    local p
    for p in $(pgrep -x mariadbd); do
        if grep -q "/$project-mariadb\$" "/proc/$p/cgroup" 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "no mariadbd of the stack is running" >&2
    return 1
}

first=() second=() killed=()
ctl up -d --progress quiet >/dev/null 2>&1 # secrets, and a stack to take down
for ((i = 0; i < runs; i++)); do first+=("$(boot first)"); done
for ((i = 0; i < runs; i++)); do second+=("$(boot second)"); done
for ((i = 0; i < kills; i++)); do
    sleep 11
    pid=$(mariadbd_pid)
    t0=$(now)
    kill -9 "$pid"
    sleep 0.05
    wait_site
    killed+=("$(echo "$(now) - $t0" | bc)")
done

echo "first boot to 200:   $(printf '%s\n' "${first[@]}" | median)"
echo "second boot to 200:  $(printf '%s\n' "${second[@]}" | median)"
echo "kill -9 mariadbd to 200: $(printf '%s\n' "${killed[@]}" | median)"
