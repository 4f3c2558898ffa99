#!/usr/bin/env bash
# messages.cnie-sim-insert: `cnie-sim insert` with a relative card path
# (README: cnie-sim --reader 1 insert build/cards/rsa) resolves it without
# losing the reader's directory, and a path that is not a card directory is
# named as such, before any socket is tried.
# Usage: cnie-sim-insert.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
sim="$build/drivers/ifd/cnie-sim"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/err"; exit 1; }
cd "$build"
# No driver listens under $tmp/base: the error must name reader1's socket.
rc=0; "$sim" --base "$tmp/base" --reader 1 insert cards/rsa 2>"$tmp/err" || rc=$?
[ "$rc" != 0 ] || fail "insert without a driver succeeded"
grep -qF "$tmp/base/reader1/control.sock" "$tmp/err" || fail "the relative card path replaced the reader directory"
rc=0; "$sim" --base "$tmp/base" --reader 1 insert no/such/card 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "exit $rc for a missing card directory, not 2"
grep -qF "no/such/card: no such card directory" "$tmp/err" || fail "no 'no such card directory'"
rc=0; "$sim" --base "$tmp/base" --reader 1 insert "$tmp" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "exit $rc for a directory without card.json, not 2"
grep -qF "no such card directory (no card.json" "$tmp/err" || fail "no card.json not named"
echo "ok: cnie-sim insert paths"
