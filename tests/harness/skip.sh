# shellcheck shell=bash
# The one rule for a test that cannot run here (sourced by the test scripts;
# tests/common/testutil.c's tu_skip is the same rule for C tests):
#   outside CI   the skip is explicit: "SKIP: reason" and exit status 77,
#                which ctest shows as "Not Run" (SKIP_RETURN_CODE 77);
#   CI=true      it is a failure: "FAIL (CI=true ...): reason", status 1, so a
#                CI runner that lacks namespaces, a client or a browser is
#                never green.
# usage: cnie_skip REASON...
cnie_skip() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL (CI=true: a test that cannot run fails): $*" >&2
    exit 1
  fi
  echo "SKIP: $*" >&2
  exit 77
}
