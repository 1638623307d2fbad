#!/usr/bin/env bash
# Fails when a file tracked by git is build output rather than source: an
# executable binary (ELF, PE, Mach-O) or anything larger than 1 MiB. Binaries
# are built by the make targets, never committed.
#
# Usage: scripts/check-tracked.sh [REPO_DIR]   (default: this repository)
set -euo pipefail
export LC_ALL=C
cd "${1:-$(dirname "$0")/..}"
max=$((1024 * 1024))

bad=0
# One stat for every file (size, type, name), then the first bytes of each
# read by the shell itself: no process per file.
while IFS=' ' read -r -d '' size type f; do
  [ "$type" = "regular" ] || continue # a symlink, or deleted in the work tree
  if [ "$size" -gt "$max" ]; then
    echo "check-tracked: $f is $size bytes (more than 1 MiB): build output or data belongs outside git" >&2
    bad=1
  fi
  magic=
  read -r -n 4 -d '' magic <"$f" || true
  case $magic in
  $'\x7fELF') kind=ELF ;;
  MZ*) kind=PE ;;
  $'\xfe\xed\xfa\xce' | $'\xfe\xed\xfa\xcf' | $'\xce\xfa\xed\xfe' | $'\xcf\xfa\xed\xfe' | $'\xca\xfe\xba\xbe') kind=Mach-O ;;
  *) continue ;;
  esac
  echo "check-tracked: $f is an executable binary ($kind): remove it (git rm --cached $f) and let a make target build it" >&2
  bad=1
done < <(git ls-files -z | xargs -0 -r stat --printf '%s %F %n\0' 2>/dev/null | sed -z 's/ regular file / regular /; s/ regular empty file / regular /')
exit "$bad"
