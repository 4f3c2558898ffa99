#!/usr/bin/env bash
# Installs the build tree into a fresh prefix and checks what arrives there.
set -euo pipefail
cmake=$1 build=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
fail=0
check() { if [ -e "$prefix/$1" ]; then echo "ok: $1"; else echo "MISSING: $1"; fail=1; fi; }
lib=$(find "$prefix" -name 'libcnie.so.0' | head -n1)
[ -n "$lib" ] && echo "ok: ${lib#"$prefix"/}" || { echo "MISSING: libcnie.so.0"; fail=1; }
check include/cnie/error.h
check include/cnie/apdu.h
check bin/cnie-perso
# Hidden by default: the dynamic symbol table holds only cnie_* functions.
if [ -n "$lib" ]; then
  extra=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^cnie_' || true)
  if [ -n "$extra" ]; then echo "exported non-API symbols:"; echo "$extra"; fail=1; fi
  n=$(nm -D --defined-only "$lib" | grep -c ' cnie_' || true)
  echo "exported cnie_* symbols: $n"
  [ "$n" -gt 20 ] || { echo "too few exports"; fail=1; }
fi
exit $fail
