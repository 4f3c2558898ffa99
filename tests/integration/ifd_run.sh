#!/usr/bin/env bash
# ifd_run.sh: runs CMD against a private pcscd holding the four virtual
# readers of tests/harness/setup-virtual-readers (tests/harness/with-pcscd
# --virtual --hide-usb), with CNIE_SIM_BASE set to their state directory.
#
# usage: ifd_run.sh [--state DIR] -- CMD [ARGS...]
#   --state DIR  keep the readers' state (PIN counters) in DIR: two runs with
#                the same DIR see the same card state, as after a pcscd restart
# Exit: CMD's; 77 when no namespace can be made; 2 on setup errors.
# Needs CNIE_SOURCE_DIR (ctest sets it) or runs from the source tree.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
harness=${CNIE_SOURCE_DIR:-$here}/tests/harness
state=()
while [ $# -gt 0 ]; do
  case "$1" in
    --state) [ $# -ge 2 ] || { echo "ifd_run.sh: --state needs a directory" >&2; exit 2; }
             state=(--state "$2"); shift ;;
    --) shift; break ;;
    *) echo "usage: ifd_run.sh [--state DIR] -- CMD ARGS..." >&2; exit 2 ;;
  esac
  shift
done
[ $# -gt 0 ] || { echo "ifd_run.sh: no command" >&2; exit 2; }
exec "$harness/with-pcscd" --hide-usb --virtual "${state[@]}" -- "$@"
