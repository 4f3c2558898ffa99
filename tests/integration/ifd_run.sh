#!/usr/bin/env bash
# ifd_run.sh: runs CMD against a private pcscd holding the three virtual
# readers of tests/harness/setup-virtual-readers, with CNIE_SIM_BASE set to
# their state directory (cnie-sim --reader N finds them).
#
# usage: ifd_run.sh [--state DIR] -- CMD [ARGS...]
#   --state DIR  keep the readers' state (PIN counters) in DIR instead of a
#                fresh directory: two runs with the same DIR see the same
#                card state, as after a pcscd restart
#
# Uses tests/harness/with-pcscd --virtual when that harness calls
# setup-virtual-readers; until then, starts pcscd itself in a private mount
# namespace with a tmpfs on /run/pcscd (pcscd 1.9.9 ignores
# PCSCLITE_CSOCK_NAME).  Exit: CMD's; 77 when no namespace can be made;
# 2 on setup errors.  Needs CNIE_BUILD_DIR and CNIE_SOURCE_DIR (ctest sets them).
set -euo pipefail

prog=ifd_run.sh
die() { echo "$prog: $*" >&2; exit 2; }

state=
while [ $# -gt 0 ]; do
  case "$1" in
    --state) [ $# -ge 2 ] || die "--state needs a directory"; state=$2; shift ;;
    --) shift; break ;;
    *) die "usage: $prog [--state DIR] -- CMD ARGS..." ;;
  esac
  shift
done
[ $# -gt 0 ] || die "no command"
: "${CNIE_BUILD_DIR:?}" "${CNIE_SOURCE_DIR:?}"
harness=$CNIE_SOURCE_DIR/tests/harness
export CNIE_IFD_LIB=${CNIE_IFD_LIB:-$CNIE_BUILD_DIR/drivers/ifd/libifd-cnie-sim.so}
[ -f "$CNIE_IFD_LIB" ] || die "driver not built: $CNIE_IFD_LIB"

if [ -z "$state" ] && grep -q setup-virtual-readers "$harness/with-pcscd" 2>/dev/null &&
   grep -q CNIE_SIM_BASE "$harness/with-pcscd" 2>/dev/null; then
  exec "$harness/with-pcscd" --hide-usb --virtual -- "$@"
fi

if [ "${CNIE_IFD_RUN_INNER:-}" != "$$" ]; then
  command -v unshare >/dev/null || { echo "$prog: SKIP: no unshare" >&2; exit 77; }
  PATH=$PATH:/usr/sbin:/sbin
  command -v pcscd >/dev/null || die "pcscd not found"
  userns=()
  [ "$(id -u)" = 0 ] || userns=(-r)
  unshare "${userns[@]}" -m --propagation private true 2>/dev/null ||
    { echo "$prog: SKIP: cannot create a mount namespace" >&2; exit 77; }
  args=()
  [ -z "$state" ] || args=(--state "$state")
  # shellcheck disable=SC2016
  exec unshare "${userns[@]}" -m --propagation private \
    bash -c 'export CNIE_IFD_RUN_INNER=$$; exec bash "$0" "$@"' "$0" "${args[@]}" -- "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ifd_run.XXXXXX")
pid=
cleanup() {
  local rc=$?
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf -- "$tmp"
  exit "$rc"
}
trap cleanup EXIT
mkdir -p /run/pcscd 2>/dev/null || { echo "$prog: SKIP: cannot create /run/pcscd" >&2; exit 77; }
mount -t tmpfs -o mode=0755,size=1m cnie-pcscd /run/pcscd ||
  { echo "$prog: SKIP: cannot mount /run/pcscd" >&2; exit 77; }
[ -n "$state" ] || state=$tmp/state
"$harness/setup-virtual-readers" "$CNIE_BUILD_DIR" "$tmp/conf" "$state"
export CNIE_SIM_BASE
CNIE_SIM_BASE=$(realpath -e "$state")
export CNIE_PCSCD_LOG=$tmp/pcscd.log
unset PCSCLITE_CSOCK_NAME
# $CNIE_PCSCD_PRELOAD: e.g. libasan.so, to load a sanitizer-built driver into pcscd.
env ${CNIE_PCSCD_PRELOAD:+LD_PRELOAD=$CNIE_PCSCD_PRELOAD} \
  pcscd -f -d -c "$tmp/conf" >"$CNIE_PCSCD_LOG" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 100); do
  [ -S /run/pcscd/pcscd.comm ] && grep -q "daemon ready" "$CNIE_PCSCD_LOG" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "daemon ready" "$CNIE_PCSCD_LOG" || { tail -20 "$CNIE_PCSCD_LOG" >&2; die "pcscd did not start"; }
set +e
"$@"
rc=$?
set -e
[ "$rc" = 0 ] || [ "$rc" = 77 ] || { echo "$prog: command exited $rc; pcscd log:" >&2; grep -i "cnie\|error" "$CNIE_PCSCD_LOG" | tail -20 >&2; }
exit "$rc"
