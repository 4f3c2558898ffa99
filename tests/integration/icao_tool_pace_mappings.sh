#!/bin/sh
# cnie-tool identity (in process, --reference-card) on reference-card
# variants whose EF.CardAccess offers PACE with integrated mapping
# (IM-ECDH-AES-128, IM-DH-AES-128) or chip authentication mapping beside
# generic mapping (CAM-ECDH-AES-256): the CAN opens each with PACE and the
# identity reads whole (the holder's name from DG1/DG11; Passive
# Authentication is not asked: the variants add data groups EF.SOD does not
# list), and the chip authenticates itself (CAM on the CAM card, Chip
# Authentication on the others).
# usage: icao_tool_pace_mappings.sh TEST_ICAO CNIE_TOOL WORKDIR
set -eu
ti=$1
tl=$2
d=$3
rm -rf "$d"
mkdir -p "$d"
checks=0

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for v in "im_ecdh:4 2 13" "im_dh:3 2 0" "cam:2 2 13 6 4 13"; do
	name=${v%%:*}
	infos=${v#*:}
	# shellcheck disable=SC2086
	"$ti" variant-pace "$d/$name" $infos || fail "variant $name"
	set +e
	printf '123456\n' | "$tl" --reference-card "$d/$name" --json identity --can-stdin \
		>"$d/$name.out" 2>"$d/$name.err"
	rc=$?
	set -e
	[ "$rc" = 0 ] || { cat "$d/$name.err" >&2; fail "$name: exit $rc"; }
	grep -q '"access": "PACE"' "$d/$name.out" || fail "$name: not read with PACE"
	grep -q 'BENALI' "$d/$name.out" || fail "$name: holder's name missing"
	# The chip proves it holds DG14's key: by the mapping itself (CAM) or
	# by Chip Authentication after the reads.
	want=ca
	[ "$name" = cam ] && want=cam
	python3 - "$d/$name.out" "$want" <<'PY' || fail "$name: chip authentication not $want/pass"
import json, sys
ca = json.load(open(sys.argv[1])).get("chip_authentication") or {}
sys.exit(0 if ca.get("method") == sys.argv[2] and ca.get("verdict") == "pass" else 1)
PY
	checks=$((checks + 1))
done
[ "$checks" = 3 ] || fail "ran $checks checks, want 3"
echo "ok: $checks PACE mappings read by cnie-tool identity"
