#!/usr/bin/env bash
# libcnie's ABI, checked on the built library (issue 16):
#  1. libcnie.so exports exactly the functions listed in libcnie.map (no
#     more, no fewer), under the map's version node;
#  2. each of them is declared CNIE_EXPORT in a public header (include/cnie),
#     and every CNIE_EXPORT there is in the map;
#  3. the public headers include no internal header (only <cnie/X.h> for X
#     among themselves), and the installed list names every one of them.
# usage: abi_check.sh LIBCNIE_SO LIBCNIE_MAP PUBLIC_INCLUDE_DIR "INSTALLED HEADERS..."
set -euo pipefail
so=$1 map=$2 inc=$3 installed=$4
fail=0
bad() { echo "FAIL - $*"; fail=1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# The map's global names (comments and the local: * clause left out).
sed -e 's|/\*.*\*/||' -e '/^ \*/d' -e '/^\/\*/d' "$map" |
  awk '/global:/ {g=1; next} /local:/ {g=0} g && /;/ {gsub(/[ \t;]/, ""); if ($0 != "") print}' |
  sort -u >"$T/map"
node=$(sed -n 's/^\([A-Z0-9_]*\) {.*/\1/p' "$map" | head -n1)
[ -s "$T/map" ] || bad "no symbol in $map"

# What the library exports: defined dynamic symbols, the version node aside.
nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' >"$T/raw"
grep -v "@@$node\$" "$T/raw" >"$T/other" || true
[ -s "$T/other" ] && bad "exported outside version node $node: $(tr '\n' ' ' <"$T/other")"
sed 's/@.*//' "$T/raw" | sort -u >"$T/so"
if ! diff -u "$T/map" "$T/so" >"$T/d1"; then
  bad "libcnie.map (-) and $so (+) differ:"; grep '^[-+]cnie\|^[-+][a-zA-Z_]' "$T/d1" || true
fi

# CNIE_EXPORT declarations in the public headers.
cat "$inc"/cnie/*.h | tr '\n' ' ' |
  grep -oE 'CNIE_EXPORT[^;{]*\b(cnie_[a-z0-9_]+)[[:space:]]*\(' |
  grep -oE 'cnie_[a-z0-9_]+[[:space:]]*\($' | tr -d ' (' | sort -u >"$T/hdr"
if ! diff -u "$T/map" "$T/hdr" >"$T/d2"; then
  bad "libcnie.map (-) and the CNIE_EXPORT declarations of $inc/cnie (+) differ:"
  grep '^[-+]cnie' "$T/d2" || true
fi

# Public headers include public headers only; all of them are installed.
for h in "$inc"/cnie/*.h; do
  b=$(basename "$h")
  case " $installed " in *"/$b "*) ;; *) bad "$b is in include/cnie but not installed" ;; esac
  for i in $(sed -n 's/^#[[:space:]]*include[[:space:]]*<cnie\/\([a-z0-9_]*\.h\)>.*/\1/p' "$h"); do
    [ -f "$inc/cnie/$i" ] || bad "public $b includes internal <cnie/$i>"
  done
done
for f in $installed; do [ -f "$f" ] || bad "installed header $f missing"; done

n=$(wc -l <"$T/so")
[ "$fail" -eq 0 ] && echo "ok - libcnie.so exports the $n functions of libcnie.map, all declared in public headers"
exit $fail
