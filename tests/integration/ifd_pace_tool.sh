#!/usr/bin/env bash
# ifd_pace_tool.sh: cnie-tool on the PACE reader (virtual reader 3: the
# reader runs PACE itself, PC/SC part 10 amendment 1 EXECUTE_PACE) through a
# real private pcscd with its APDU log on:
#   - info and pin verify with the CAN and the PIN typed on the reader's
#     (scripted) keypad: nothing asked on the computer;
#   - the computer never sees them: pcscd's log (every APDU a client sent,
#     the driver's own log lines, its APDU trace) holds neither the CAN nor
#     the PIN, and no client sent MSE:SET AT or GENERAL AUTHENTICATE (libcnie
#     left PACE to the reader);
#   - a wrong CAN on the keypad: exit 4 and the wrong-CAN message, no PIN
#     try spent; Cancel on the keypad: exit 5;
#   - control runs that show each grep can fail: software PACE on the
#     contactless reader puts GENERAL AUTHENTICATE in the log, a plain
#     VERIFY on the contact reader puts the PIN there.
#
# usage: ifd_pace_tool.sh WITH_PCSCD CNIE_SIM CNIE_TOOL CARDS_DIR
set -euo pipefail
with=$1 sim=$2 tool=$3 cards=$4

if [ "${IFD_PACE_TOOL_INNER:-}" != 1 ]; then
  # The driver's own APDU trace and debug log go to pcscd's log too.
  export IFD_PACE_TOOL_INNER=1 CNIE_APDU_TRACE=1 CNIE_LOG=trace
  exec "$with" --virtual --hide-usb --apdu-log -- "$0" "$@"
fi
unset CNIE_APDU_TRACE CNIE_LOG
export NO_COLOR=1 LC_ALL=C CNIE_NO_CACHE=1
log=$CNIE_PCSCD_LOG
out=$(mktemp -d)
trap 'rm -rf -- "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
can=123456 pin=1234

"$sim" --reader 3 insert "$cards/ec" >/dev/null

# 1. info with the CAN on the keypad (keys from stdin: never on a command line).
echo "$can" | "$sim" --reader 3 keys - >/dev/null
CNIE_APDU_TRACE=1 CNIE_LOG=trace "$tool" --reader "PACE" info >"$out/info" 2>"$out/info.err" ||
  { cat "$out/info.err" >&2; fail "cnie-tool info on the PACE reader"; }
grep -q '^Serial: ' "$out/info" || fail "no serial in info"
grep -q '^PIN: 3 tries left' "$out/info" || fail "PIN tries: $(grep PIN "$out/info")"
grep -q "reader's keypad" "$out/info.err" || fail "no keypad prompt"
if grep -Eq '> (00|10)860000|> 0022C1A4' "$out/info.err"; then
  fail "libcnie sent a PACE command itself on the PACE reader"
fi
grep -q "> 00A4040C08F0434E4945504B49" "$out/info.err" || fail "the library's trace shows no SELECT"

# 2. pin verify: CAN, then PIN, both on the keypad.
printf '%s %s\n' "$can" "$pin" | "$sim" --reader 3 keys - >/dev/null
"$tool" --reader "PACE" pin verify >"$out/verify" 2>"$out/verify.err" ||
  { cat "$out/verify.err" >&2; fail "pin verify on the keypad"; }
grep -q 'verify: OK' "$out/verify" || fail "verify: $(cat "$out/verify")"
grep -q "PIN pad" "$out/verify.err" || fail "no PIN pad prompt"

# 3. Wrong CAN: clean error, exit 4, no PIN try spent.
echo 654321 | "$sim" --reader 3 keys - >/dev/null
rc=0; "$tool" --reader "PACE" info >/dev/null 2>"$out/wrong" || rc=$?
[ "$rc" = 4 ] || { cat "$out/wrong" >&2; fail "wrong CAN: exit $rc, want 4"; }
grep -qi 'wrong card access number' "$out/wrong" || fail "wrong CAN message: $(cat "$out/wrong")"

# 4. Cancel on the keypad: exit 5.
"$sim" --reader 3 keys cancel >/dev/null
rc=0; "$tool" --reader "PACE" info >/dev/null 2>"$out/cancel" || rc=$?
[ "$rc" = 5 ] || { cat "$out/cancel" >&2; fail "keypad cancel: exit $rc, want 5"; }
grep -qi 'cancel' "$out/cancel" || fail "cancel message: $(cat "$out/cancel")"

echo "$can" | "$sim" --reader 3 keys - >/dev/null
"$tool" --reader "PACE" info >"$out/info2" 2>/dev/null || fail "info after the failures"
grep -q '^PIN: 3 tries left\|^PIN: verified' "$out/info2" || fail "PIN tries after: $(grep PIN "$out/info2")"
"$sim" --reader 3 status | grep -q '"keys":0' || fail "keys left in the queue"

# 5. What the computer saw: nothing of the CAN, the PIN or PACE.
sleep 0.2
grep -q 'APDU: ' "$log" || fail "pcscd logged no APDU (-a not in effect?)"
grep -q 'cnie-sim: .*apdu' "$log" || fail "the driver's APDU trace is not in pcscd's log"
n=$(grep -c 'APDU: ' "$log")
grep -Eq 'APDU: (00|10) 86 00 00|APDU: 00 22 C1 A4' "$log" &&
  fail "a client sent MSE:SET AT or GENERAL AUTHENTICATE on the PACE reader"
grep -Eqw "$can" "$log" && fail "the CAN is in pcscd's log"
grep -Eiq '31 ?32 ?33 ?34 ?35 ?36' "$log" && fail "the CAN (hex) is in pcscd's log"
grep -Eiq '31 ?32 ?33 ?34' "$log" && fail "the PIN (hex) is in pcscd's log"
echo "PACE reader: $n client APDUs logged, none with the CAN, the PIN or a PACE step"

# 6. Controls: the same greps find them where the computer does see them.
lines=$(wc -l <"$log")
"$sim" --reader 1 insert "$cards/ec" >/dev/null
echo "$can" | "$tool" --reader "Contactless" info --can-stdin >/dev/null 2>&1 ||
  fail "control: software PACE on the contactless reader"
echo "$pin" | "$tool" --reader "CNIE Virtual Contact Reader" pin verify --pin-stdin >/dev/null 2>"$out/ctl.err" ||
  { cat "$out/ctl.err" >&2; fail "control: plain VERIFY on the contact reader"; }
sleep 0.2
tail -n +"$((lines + 1))" "$log" >"$out/control"
grep -Eq 'APDU: 10 86 00 00' "$out/control" || fail "control: no GENERAL AUTHENTICATE in the log"
grep -Eiq 'APDU: 00 20 00 81 04 31 32 33 34' "$out/control" ||
  fail "control: the plain VERIFY is not in the log"
echo "controls: software PACE and a plain VERIFY do show in the same log"
