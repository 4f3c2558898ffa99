#!/usr/bin/env bash
# Run by tests/harness/with-pcscd --hide-usb: a real PC/SC client
# (opensc-tool) must reach the private pcscd and report no reader.  The
# daemon's log (CNIE_PCSCD_LOG, set by the harness) proves the client
# talked to this pcscd and not to some other one.
set -u
# shellcheck source=tests/harness/skip.sh
. "$(dirname "$0")/../harness/skip.sh"
command -v opensc-tool >/dev/null 2>&1 || cnie_skip "opensc-tool not installed"
[ -n "${CNIE_PCSCD_LOG:-}" ] || { echo "FAIL: not run under with-pcscd"; exit 1; }
out=$(opensc-tool --list-readers 2>&1)
rc=$?
echo "$out"
fail=0
if ! grep -q "No smart card readers found" <<<"$out"; then
  echo "FAIL: opensc-tool did not report 'No smart card readers found'"; fail=1
fi
if [ "$rc" != 0 ]; then
  echo "FAIL: opensc-tool exited with $rc"; fail=1
fi
if ! grep -q "ESTABLISH_CONTEXT" "$CNIE_PCSCD_LOG"; then
  echo "FAIL: the private pcscd saw no client (log: no ESTABLISH_CONTEXT)"; fail=1
fi
[ "$fail" = 0 ] && echo "ok: opensc-tool reached the private pcscd and found no reader"
exit "$fail"
