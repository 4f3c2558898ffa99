#!/usr/bin/env bash
# install-check.sh BUILD_DIR: installs cnie-tool's directory (the binary,
# the man pages cnie-tool.1 and cnied.8, the bash completion) into a
# scratch prefix, checks each file, renders the man pages with man(1)
# warnings on, and exercises the completion function.
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake -DCMAKE_INSTALL_PREFIX="$tmp/p" -P "$build/tools/cnie-tool/cmake_install.cmake" >/dev/null
for f in bin/cnie-tool share/man/man1/cnie-tool.1 share/man/man8/cnied.8 \
         share/bash-completion/completions/cnie-tool; do
  [ -s "$tmp/p/$f" ] || fail "$f not installed"
done
LD_LIBRARY_PATH=$build/lib "$tmp/p/bin/cnie-tool" --version > "$tmp/version"
grep -q "^cnie-tool " "$tmp/version" || fail "installed binary"

if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
  for page in man1/cnie-tool.1 man8/cnied.8; do
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$tmp/p/share/man/$page" 2>&1 >/dev/null || true)
    [ -z "$out" ] || fail "$page: $out"
    LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$tmp/p/share/man/$page" > "$tmp/rendered" 2>/dev/null
    grep -q "EXIT STATUS" "$tmp/rendered" || fail "$page does not render"
  done
  # Every subcommand is documented.
  sed 's/\\-/-/g' "$tmp/p/share/man/man1/cnie-tool.1" > "$tmp/page"
  for c in readers info identity certs pin sign verify bridge verify-token doctor; do
    grep -q "^\.SS $c" "$tmp/page" || fail "cnie-tool.1 lacks $c"
  done
fi

# Completion: subcommands, pin actions, --key values.
# shellcheck disable=SC1091
. "$tmp/p/share/bash-completion/completions/cnie-tool"
comp() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _cnie_tool; echo "${COMPREPLY[*]}"; }
has_word() { [[ " $1 " == *" $2 "* ]]; }
has_word "$(comp cnie-tool "")" doctor || fail "completion: commands"
has_word "$(comp cnie-tool --json d)" doctor || fail "completion: after a global option"
has_word "$(comp cnie-tool pin "")" unblock || fail "completion: pin actions"
[ "$(comp cnie-tool sign --key "")" = "auth sign" ] || fail "completion: --key"
has_word "$(comp cnie-tool doctor --r)" --report || fail "completion: doctor options"
echo "PASS install-check"
