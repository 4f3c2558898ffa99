#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2016  # ok() never fails; $0 expands in the inner shell
# A machine where tests/harness/with-pcscd cannot make its namespaces
# (tests/harness/deny_namespaces: the kernel refuses them, as a hardened CI
# runner does): under CI=true the harness fails with a clear message,
# outside CI it skips visibly (77).  Also the shared rule itself
# (tests/harness/skip.sh).  Needs no namespace, so it always runs.
# usage: harness_ci.sh PATH/TO/with-pcscd PATH/TO/deny_namespaces
set -u
h=${1:?usage: harness_ci.sh WITH-PCSCD DENY-NAMESPACES}
deny=${2:?usage: harness_ci.sh WITH-PCSCD DENY-NAMESPACES}
fail=0 checks=0
ok() { echo "ok   $*"; checks=$((checks + 1)); }
bad() { echo "FAIL $*"; fail=1; checks=$((checks + 1)); }

# The denial is real: unshare(1) itself is refused.
if "$deny" unshare -m true 2>/dev/null || "$deny" unshare -r -m true 2>/dev/null; then
  bad "unshare succeeded under deny_namespaces: the simulation does not hold"
else
  ok "unshare refused under deny_namespaces"
fi
# Ordinary programs (fork, exec, threads) still run.
"$deny" sh -c 'true | cat' && ok "fork and exec still work" || bad "deny_namespaces broke fork/exec"

out=$(CI=true "$deny" "$h" --no-pcscd -- true 2>&1)
rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 77 ] && grep -q "FAIL (CI=true" <<<"$out" &&
    grep -q "cannot create a mount namespace" <<<"$out"; then
  ok "CI=true, no namespaces: the harness fails (status $rc) and says why"
else
  bad "CI=true, no namespaces: status $rc, output '$out'"
fi

out=$(env -u CI "$deny" "$h" --no-pcscd -- true 2>&1)
rc=$?
if [ "$rc" = 77 ] && grep -q "SKIP: with-pcscd: cannot create a mount namespace" <<<"$out"; then
  ok "outside CI, no namespaces: a visible skip (77)"
else
  bad "outside CI, no namespaces: status $rc, output '$out'"
fi

# The rule for every other test script.
skip_sh=$(dirname "$h")/skip.sh
out=$(CI=true bash -c '. "$0"; cnie_skip "no widget"' "$skip_sh" 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -q "FAIL (CI=true.*no widget" <<<"$out" \
  && ok "cnie_skip under CI=true: status 1" || bad "cnie_skip under CI=true: $rc '$out'"
out=$(env -u CI bash -c '. "$0"; cnie_skip "no widget"' "$skip_sh" 2>&1)
rc=$?
[ "$rc" = 77 ] && grep -q "^SKIP: no widget" <<<"$out" \
  && ok "cnie_skip outside CI: status 77" || bad "cnie_skip outside CI: $rc '$out'"

echo "$checks checks"
[ "$checks" -gt 0 ] || { echo "FAIL no check ran"; exit 1; }
exit "$fail"
