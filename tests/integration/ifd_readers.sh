#!/usr/bin/env bash
# Virtual readers through a real pcscd and a real client (OpenSC):
# names and order, an APDU to the reference card, cnie-sim commands and
# exit codes, state files kept out of the build's card directories.
# Runs under tests/integration/ifd_run.sh.  usage: ifd_readers.sh CNIE_SIM
set -euo pipefail
sim=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
: "${CNIE_SIM_BASE:?}" "${CNIE_BUILD_DIR:?}"

# 1. Four readers, in order, the PIN pads announced as such.
list=$(opensc-tool --list-readers)
echo "$list"
echo "$list" | grep -Eq '^0 +Yes +CNIE Virtual Contact Reader 00 00$' || fail "reader 0"
echo "$list" | grep -Eq '^1 +No +CNIE Virtual Contactless Reader 01 00$' || fail "reader 1"
echo "$list" | grep -Eq '^2 +Yes +PIN pad +CNIE Virtual PIN-pad Reader 02 00$' || fail "reader 2"
echo "$list" | grep -Eq '^3 +No +PIN pad +CNIE Virtual PACE Reader 03 00$' || fail "reader 3"
[ "$(echo "$list" | grep -c 'CNIE Virtual')" = 4 ] || fail "not four readers"
# OpenSC (reader-pcsc.c detect_reader_features) sees EXECUTE_PACE on reader 3 only.
"$sim" --reader 3 insert "$CNIE_BUILD_DIR/cards/ec" >/dev/null
dbg=$(OPENSC_DEBUG=9 opensc-tool --list-readers 2>&1)
[ "$(echo "$dbg" | grep -c 'Reader supports PACE')" = 1 ] || fail "OpenSC does not see PACE once"
"$sim" --reader 3 remove >/dev/null
st=$("$sim" --reader 3 status)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["type"]=="pace" and d["present"] is False and d["pace"]=="none", d' "$st" ||
  fail "status reader 3"

# 2. SELECT of the PKI application answers 9000.
out=$(opensc-tool -r 0 -s '00 A4 04 00 08 F0 43 4E 49 45 50 4B 49')
echo "$out"
echo "$out" | grep -q 'SW1=0x90, SW2=0x00' || fail "SELECT PKI"
# An unknown AID: the card answers (6A82), the reader does not fail.
out=$(opensc-tool -r 0 -s '00 A4 04 00 05 F0 00 00 00 00')
echo "$out" | grep -q 'SW1=0x6A, SW2=0x82' || fail "SELECT unknown AID: $out"

# 3. status is one JSON line.
st=$("$sim" --reader 0 status)
echo "$st"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["type"]=="contact" and d["present"] is True and d["card"].endswith("/cards/ec"), d' "$st" ||
  fail "status reader 0"
st=$("$sim" --reader 1 status)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["type"]=="contactless" and d["present"] is False and d["card"] is None, d' "$st" ||
  fail "status reader 1"

# 4. Exit codes (cnie-sim --help).
rc=0; "$sim" --reader 0 insert "$CNIE_BUILD_DIR/cards/ec" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "insert into a full reader: exit $rc, want 1"
rc=0; "$sim" --reader 1 remove 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "remove from an empty reader: exit $rc, want 1"
rc=0; "$sim" --reader 0 keys 1234 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "keys on a contact reader: exit $rc, want 1"
rc=0; "$sim" --reader 2 keys 12a4 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "keys with a non-digit: exit $rc, want 1"
rc=0; "$sim" --reader 0 frobnicate 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "unknown command: exit $rc, want 2"
rc=0; "$sim" --reader 0 remove extra 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "extra argument: exit $rc, want 2"
rc=0; "$sim" --reader 7 status 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "no such reader: exit $rc, want 3"
"$sim" --help | grep -q '^Exit status' || fail "--help"

# 5. A card inserted later (contactless reader): state under the reader's
#    state directory, seeded from the card's own state.json (blocked card).
"$sim" --reader 1 insert "$CNIE_BUILD_DIR/cards/blocked" >/dev/null
opensc-tool --list-readers | grep -Eq '^1 +Yes ' || fail "contactless card not seen"
"$sim" --reader 1 remove >/dev/null
if [ -f "$CNIE_BUILD_DIR/cards/blocked/state.json" ]; then
  cmp -s "$CNIE_BUILD_DIR/cards/blocked/state.json" "$CNIE_SIM_BASE/reader1/blocked.state.json" ||
    fail "blocked card state not seeded into the reader's state directory"
fi

echo "ok"
