#!/usr/bin/env bash
# The module as `cmake --install` lays it out: ${libdir}/pkcs11/cnie-pkcs11.so
# exporting only C_* and needing no libcnie.so, and the p11-kit module file
# ${datadir}/p11-kit/modules/cnie.module naming it (by absolute path: a
# scratch prefix is outside p11-kit's module path; tests/integration/
# install_check.sh checks the system prefixes).  Then the installed copy
# is used through pkcs11-tool (run under tests/harness/with-pcscd --virtual).
#
# usage: p11_install.sh BUILD_DIR
set -euo pipefail

build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fail=1; }

cmake --install "$build" --prefix "$tmp" >/dev/null
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
datadir=$(sed -n 's/^CMAKE_INSTALL_DATADIR:[A-Z]*=//p' "$build/CMakeCache.txt")
mod=$tmp/${libdir:-lib}/pkcs11/cnie-pkcs11.so
conf=$tmp/${datadir:-share}/p11-kit/modules/cnie.module

[ -f "$mod" ] && ok "module installed at ${libdir:-lib}/pkcs11/cnie-pkcs11.so" || bad "no $mod"
if [ -f "$conf" ] && grep -qx "module: $mod" "$conf"; then
  ok "p11-kit module file names the installed module"
else
  bad "p11-kit module file $conf"
fi
others=$(nm -D --defined-only "$mod" | awk '{print $3}' | grep -v '^C_' || true)
[ -z "$others" ] && ok "only C_* exported" || bad "other exports: $others"
n=$(nm -D --defined-only "$mod" | awk '{print $3}' | grep -c '^C_' || true)
# 68 Cryptoki 2.40 functions + C_GetInterfaceList + C_GetInterface.
[ "$n" = 70 ] && ok "70 C_* entry points" || bad "$n C_* entry points"
if LD_PRELOAD= ldd "$mod" | grep -q 'libcnie\.so'; then bad "depends on libcnie.so"; else ok "self-contained (static libcnie)"; fi
# An ASan build of the module inside the uninstrumented pkcs11-tool: the
# runtime must come first (leaks are checked by p11_api, built with ASan).
asan_preload() {
  ldd "$1" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ {printf "%s%s", sep, $3; sep=":"}'
}
preload=$(asan_preload "$mod")
if [ -n "$preload" ]; then
  export LD_PRELOAD=$preload ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi
if command -v pkcs11-tool >/dev/null; then
  if CNIE_NO_CACHE=1 pkcs11-tool --module "$mod" --list-slots 2>&1 | grep -Eq 'token label *: CNIE [0-9A-Fa-f]{16}$'; then
    ok "installed module lists the token"
  else
    bad "installed module through pkcs11-tool"
  fi
fi
exit "$fail"
