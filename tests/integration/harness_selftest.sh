#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2016  # ok() never fails; $ expands in the inner shell
# Checks tests/harness/with-pcscd itself: exit status passed through,
# private socket present or absent as asked, USB drivers hidden, pcscd
# stopped afterwards, log kept on request, clear refusal of --virtual
# without a driver.  Exit 77 when the harness cannot run here (outside CI;
# under CI=true that is a failure: tests/harness/skip.sh).
set -u
h=${1:?usage: harness_selftest.sh PATH/TO/with-pcscd}
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

CNIE_HARNESS_QUIET=1 "$h" --hide-usb -- true
rc=$?
# 77 only outside CI (under CI=true the harness fails instead).
# shellcheck source=tests/harness/skip.sh
[ "$rc" = 77 ] && { . "$(dirname "$h")/skip.sh"; cnie_skip "harness unavailable here"; }
[ "$rc" = 0 ] && ok "true under the harness exits 0" || bad "true exited $rc"

CNIE_HARNESS_QUIET=1 "$h" --hide-usb -- sh -c 'exit 7'
rc=$?
[ "$rc" = 7 ] && ok "command exit status 7 passed through" || bad "exit 7 came back as $rc"

"$h" --hide-usb -- sh -c 'test -S /run/pcscd/pcscd.comm' \
  && ok "private pcscd socket exists" || bad "no socket at /run/pcscd/pcscd.comm"

"$h" --no-pcscd -- sh -c 'test ! -e /run/pcscd/pcscd.comm' \
  && ok "--no-pcscd: no socket" || bad "--no-pcscd: a socket is visible"

"$h" --hide-usb -- sh -c 'd=$(pkg-config --variable=usbdropdir libpcsclite 2>/dev/null || echo /usr/lib/pcsc/drivers); test -z "$(ls -A "$d" 2>/dev/null)"' \
  && ok "--hide-usb: driver directory empty" || bad "--hide-usb: drivers still visible"

# An outer pcscd (standing for a system one) is invisible to an inner run.
"$h" --hide-usb -- "$h" --no-pcscd -- sh -c 'test ! -e /run/pcscd/pcscd.comm' \
  && ok "outer pcscd hidden from a nested --no-pcscd run" || bad "outer pcscd visible"

PCSCLITE_CSOCK_NAME=/nonexistent/sock "$h" --hide-usb -- sh -c 'test -z "${PCSCLITE_CSOCK_NAME:-}"' \
  && ok "PCSCLITE_CSOCK_NAME unset for the command" || bad "PCSCLITE_CSOCK_NAME leaked"

"$h" --hide-usb --keep-log "$tmp/kept.log" -- true
grep -q "daemon ready" "$tmp/kept.log" 2>/dev/null \
  && ok "--keep-log kept the pcscd log" || bad "--keep-log: no log in $tmp/kept.log"

# pcscd must be gone when the harness returns: its pid file names a
# process in the harness's PID namespace, so look for a pcscd whose
# command line carries this run's private config directory instead.
"$h" --hide-usb -- sh -c 'ps -o args= -C pcscd 2>/dev/null | grep -o "with-pcscd\.[A-Za-z0-9]*" > "$0"' "$tmp/conf" || true
if [ -s "$tmp/conf" ]; then
  if pgrep -f "$(cat "$tmp/conf")" >/dev/null 2>&1; then
    bad "pcscd still running after the harness returned"
  else
    ok "pcscd stopped after the command"
  fi
else
  bad "could not see the private pcscd from inside"
fi

out=$(env -u CNIE_IFD_LIB CNIE_BUILD_DIR=/nonexistent-build "$h" --virtual -- true 2>&1)
rc=$?
if [ "$rc" = 2 ] && grep -q "virtual reader driver not built" <<<"$out"; then
  ok "--virtual without a built driver: refused with a clear message"
else
  bad "--virtual without a driver: rc $rc, '$out'"
fi

"$h" 2>/dev/null
[ $? = 2 ] && ok "no command: usage error 2" || bad "no command: not a usage error"

exit "$fail"
