#!/usr/bin/env bash
# integration.tool_bridge_ipv6: `cnie-tool bridge status` connects to the
# listeners cnied's port file names (docs/bridge-api.md: one a line), not to
# a fixed 127.0.0.1: a real cnied on [::1] only (--listen [::1]:0), then a
# port file whose first listener is dead (each line is tried in order), then
# the status in French and Arabic.
# Usage: bridge-ipv6.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/harness/skip.sh
. "$src/tests/harness/skip.sh"
tool=$build/tools/cnie-tool/cnie-tool
cnied=$build/src/cnied/cnied
J=$src/tests/tool/jcheck
if [ ! -x "$tool" ] || [ ! -x "$cnied" ]; then echo "FAIL: cnie-tool or cnied not built"; exit 1; fi
python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null ||
  cnie_skip "no IPv6 loopback (::1) on this machine"

tmp=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ ! -f "$tmp/out" ] || cat "$tmp/out"; exit 1; }
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/config CNIE_NO_CACHE=1
unset XDG_STATE_HOME
mkdir -p "$HOME"
cp -r "$build/cards/ec" "$tmp/card"
state=$tmp/state
"$cnied" --foreground --reference-card="$tmp/card" --listen '[::1]:0' --state-dir "$state" \
  --audit "$tmp/audit.log" >"$tmp/cnied.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  [ -s "$state/cnied.port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/cnied.log"; fail "cnied exited"; }
  sleep 0.1
done
[ -s "$state/cnied.port" ] || { cat "$tmp/cnied.log"; fail "no port file"; }
line=$(head -n1 "$state/cnied.port")
if [[ $line != "[::1]:"* ]] || [ "$(wc -l <"$state/cnied.port")" != 1 ]; then
  fail "the port file of an IPv6-only cnied is not one [::1] line: $(cat "$state/cnied.port")"
fi
port=${line##*:}

# 1. Only [::1] in the port file.
rc=0; "$tool" --json bridge status --state-dir "$state" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "bridge status over [::1] exited $rc"
"$J" "$tmp/out" "d['running'] is True" "d['address']=='[::1]:$port'" "d['port']==$port" \
  "d['listeners']==['[::1]:$port']" "d['status']['transport']=='reference-card'" ||
  fail "bridge status JSON over [::1]"

# 2. A dead IPv4 listener first, then [::1]: each address is tried in turn.
mkdir -p "$tmp/state2"
cp "$state/ca.pem" "$tmp/state2/ca.pem"
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
  > "$tmp/deadport"
printf '127.0.0.1:%s\n[::1]:%s\n' "$(cat "$tmp/deadport")" "$port" > "$tmp/state2/cnied.port"
rc=0; "$tool" --json bridge status --state-dir "$tmp/state2" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "bridge status with a dead first listener exited $rc"
"$J" "$tmp/out" "d['running'] is True" "d['address']=='[::1]:$port'" "len(d['listeners'])==2" ||
  fail "bridge status did not go on to [::1]"

# 3. The same for a person, in French and Arabic.
# shellcheck source=tests/l10n/locales.sh
. "$src/tests/l10n/locales.sh"
cnie_l10n_locales "$build"
LANG=fr_FR.UTF-8 "$tool" bridge status --state-dir "$state" >"$tmp/out" 2>&1 || fail "fr status"
grep -qF "passerelle : en service sur https://[::1]:$port (cnied " "$tmp/out" || fail "fr: running on [::1]"
grep -qF "lecteur : CNIE Reference Card (in-process) (carte présente)" "$tmp/out" || fail "fr: reader"
LANG=ar_MA.UTF-8 "$tool" bridge status --state-dir "$state" >"$tmp/out" 2>&1 || fail "ar status"
grep -qF "الجسر: يعمل على https://[::1]:$port" "$tmp/out" || fail "ar: running on [::1]"

# 4. cnied stopped: not running, exit 3, the shared code.
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
rc=0; "$tool" --json bridge status --state-dir "$tmp/state2" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "bridge status with cnied stopped exited $rc, not 3"
"$J" "$tmp/out" "d['running'] is False" "d['code']=='bridge-unreachable'" \
  "'[::1]:$port' in d['error']" || fail "stopped bridge JSON"
echo "ok: bridge status over [::1] (port $port), each listed address tried"
