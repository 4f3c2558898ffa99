#!/usr/bin/env bash
# cnie-tool integration tests: run.sh CASE, inside tests/harness/with-pcscd
# (see tests/suites/cnie_tool.cmake for the harness options of each case).
# Readers of --virtual: 0 contact (EC card), 1 contactless (empty), 2 PIN
# pad (EC card), 3 PACE reader (empty).  Every JSON output is parsed (tests/tool/jcheck) and its
# fields asserted; human output is matched with grep.
set -euo pipefail

case_name=$1
here=$(cd "$(dirname "$0")" && pwd)
B=${CNIE_BUILD_DIR:?CNIE_BUILD_DIR not set}
TL=$B/tools/cnie-tool/cnie-tool
SIM=$B/drivers/ifd/cnie-sim
CARDS=$B/cards
PKI=$CARDS/pki
J=$here/jcheck
R0="CNIE Virtual Contact Reader"
R1="CNIE Virtual Contactless Reader"
R2="CNIE Virtual PIN-pad Reader"

tmp=$(mktemp -d)
lpid=
trap '[ -z "$lpid" ] || kill "$lpid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
# No on-disk cache, no user state: a private HOME for the NSS/bridge checks.
# CNIE_DOCTOR_NO_DEFAULT_PORT: a bridge of the machine on 28219 must not
# answer for the test's (absent) one.
export CNIE_NO_CACHE=1 HOME=$tmp/home XDG_STATE_HOME=$tmp/home/.local/state
export CNIE_DOCTOR_NO_DEFAULT_PORT=1
unset XDG_CONFIG_HOME
mkdir -p "$HOME"

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }

# expect RC CMD...: runs CMD (stdout to $tmp/out, stderr to $tmp/err), checks its exit status.
expect() {
  local want=$1 rc=0
  shift
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"
    fail "exit $rc, expected $want: $*"
  fi
}
# expect_in RC INPUT CMD...: as expect with INPUT on stdin.
expect_in() {
  local want=$1 input=$2 rc=0
  shift 2
  printf '%s' "$input" | "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"
    fail "exit $rc, expected $want: $*"
  fi
}
has() { grep -q -- "$1" "$tmp/out" || { cat "$tmp/out"; fail "output lacks: $1"; }; }
# insert N CARD [STATE]: cnie-sim inserts, then waits until pcscd shows a card
# in reader N (pcscd notices the insertion on its next poll, not at once).
insert() {
  local n=$1
  shift
  "$SIM" --reader "$n" insert "$@"
  for _ in $(seq 100); do
    "$TL" --json readers 2>/dev/null | python3 -c \
      "import json,sys; sys.exit(0 if json.load(sys.stdin)['readers'][$n]['card'] else 1)" \
      2>/dev/null && return 0
    sleep 0.1
  done
  fail "pcscd shows no card in reader $n after cnie-sim insert"
}
jc() { "$J" "$tmp/out" "$@" || fail "JSON assertions"; }
# Doctor checks by id, one jcheck run: dcheck ID STATUS [FIX_SUBSTRING] [ID STATUS [FIX]]...
# (FIX "-" for none); a WARN or FAIL must carry a fix.
dcheck() {
  local exprs=()
  while [ $# -ge 2 ]; do
    local id=$1 st=$2 fx=${3:--}
    shift 2; [ $# -ge 1 ] && shift
    exprs+=("any(c['id']=='$id' and c['status']=='$st' for c in d['checks'])")
    if [ "$st" = FAIL ] || [ "$st" = WARN ]; then
      exprs+=("all(c['fix'] for c in d['checks'] if c['id']=='$id' and c['status']=='$st')")
    fi
    if [ "$fx" != - ]; then
      exprs+=("any(c['id']=='$id' and '$fx' in (c['fix'] or '') + c['message'] for c in d['checks'])")
    fi
  done
  jc "${exprs[@]}"
}

case "$case_name" in
usage)
  expect 0 "$TL" --help; has "doctor"
  expect 0 "$TL" --version; has "cnie-tool"
  expect 2 "$TL"
  expect 2 "$TL" frobnicate
  expect 2 "$TL" --json frobnicate
  jc "d['error']['code']=='usage'"
  expect 2 "$TL" sign --key auth --out x
  expect 2 "$TL" sign --key other --in /etc/hostname --out x
  expect 2 "$TL" sign --key auth --hash 00 --out x
  expect 2 "$TL" pin dance
  ;;

readers)
  expect 0 "$TL" readers
  has "$R0 00 00"; has "card: present  ATR 3b8c8131fe45"; has "$R1 01 00"; has "card: empty"
  expect 0 "$TL" readers --json
  jc "d['pcscd']=='running'" "len(d['readers'])==4" \
     "d['readers'][0]['name']=='$R0 00 00'" "d['readers'][0]['card'] is True" \
     "d['readers'][0]['atr']=='3b8c8131fe458031a873b401c064434e4945fd'" \
     "d['readers'][1]['state']=='empty' and d['readers'][1]['atr'] is None" \
     "d['readers'][3]['name']=='CNIE Virtual PACE Reader 03 00'" \
     "isinstance(d['usb'], list)"
  # libccid's list from another Info.plist; a hostile one is ignored (null).
  printf '<key>ifdVendorID</key><array><string>0x072F</string></array><key>ifdProductID</key><array><string>0x90CC</string></array>' > "$tmp/Info.plist"
  CNIE_CCID_INFO_PLIST=$tmp/Info.plist expect 0 "$TL" readers --json
  jc "d['libccid']=='$tmp/Info.plist'"
  head -c 3000 /dev/urandom > "$tmp/bad.plist"
  CNIE_CCID_INFO_PLIST=$tmp/bad.plist expect 0 "$TL" readers --json
  jc "d['libccid'] is None" "len(d['readers'])==4"
  # --json after the subcommand works the same.
  expect 0 "$TL" --json readers
  jc "len(d['readers'])==4"
  ;;

readers-no-pcscd)
  expect 3 "$TL" readers
  has "pcscd: not running"
  expect 3 "$TL" readers --json
  jc "d['pcscd']=='not running'" "d['readers']==[]"
  expect 3 "$TL" info --json
  jc "d['error']['code']=='no-service'" "d['error']['name']=='CNIE_ERR_NO_SERVICE'" "'pcscd' in d['error']['fix']"
  ;;

info)
  # Two readers hold a card: no random pick.
  expect 1 "$TL" info
  grep -q "several readers have a card" "$tmp/err" || fail "no --reader hint"
  expect 1 "$TL" --json info
  jc "d['error']['code']=='multiple-cards'" "'--reader' in d['error']['context']" \
    "len(d['error']['readers'])==2"
  # --reader Contact fits two readers (Contact, Contactless): both are listed.
  expect 2 "$TL" --reader Contact info
  grep -qF -- '--reader "Contact" names several readers' "$tmp/err" || fail "no ambiguity message"
  grep -qF "  $R0 00 00" "$tmp/err" || fail "reader $R0 not listed"
  grep -qF "  $R1 01 00" "$tmp/err" || fail "reader $R1 not listed"
  expect 2 "$TL" --json --reader Contact info
  jc "d['error']['code']=='bad-request'" "d['error']['name']=='CNIE_ERR_INVALID_ARG'" \
    "sorted(d['error']['readers'])==['$R0 00 00','$R1 01 00']" \
    "'several readers' in d['error']['message']"
  expect 0 "$TL" --reader "$R0" info
  has "Serial: 81D8DD304F8A3E96"; has "PIN: 3 tries left"; has "PUK: 10 tries left"
  has "Key auth: EC 256 bits"; has "Key sign: EC 384 bits"
  has "Application: pki F0434E4945504B49"; has "Application: icao A0000002471001"
  expect 0 "$TL" info --reader "$R0" --json
  jc "d['card']['recognised'] is True" "d['card']['serial']=='81D8DD304F8A3E96'" \
     "{(a['name'],a['aid']) for a in d['card']['applications']}=={('pki','F0434E4945504B49'),('icao','A0000002471001')}" \
     "d['pin']=={'tries_left':3,'blocked':False,'verified':False}" \
     "d['puk']['tries_left']==10 and d['puk']['blocked'] is False" \
     "d['atr'].startswith('3b8c8131fe45')" \
     "[k['role'] for k in d['keys']]==['auth','sign']" \
     "d['keys'][0]['certificate']['key']=='EC P-256'" \
     "d['keys'][1]['certificate']['key']=='EC P-384'" \
     "d['keys'][1]['always_pin'] is True" \
     "d['keys'][0]['certificate']['issuer']=='CN=TEST CNIE CITIZEN CA,O=TEST CNIE,C=MA'" \
     "d['keys'][0]['certificate']['expired'] is False"
  # info spends no try: a wrong PIN first, then info twice, the count stays.
  expect_in 4 $'9999\n' "$TL" --reader "$R0" pin verify --pin-stdin
  expect 0 "$TL" --reader "$R0" --json info
  jc "d['pin']['tries_left']==2"
  expect 0 "$TL" --reader "$R0" --json info
  jc "d['pin']['tries_left']==2"
  # The RSA card in the contactless reader: CAN from stdin, PACE.
  "$SIM" --reader 1 remove 2>/dev/null || true
  insert 1 "$CARDS/rsa"
  expect_in 0 $'234567\n' "$TL" --reader "$R1" --json info --can-stdin
  jc "d['keys'][0]['type']=='RSA' and d['keys'][0]['bits']==2048" "d['keys'][1]['bits']==3072"
  expect_in 4 $'654321\n' "$TL" --reader "$R1" --json info --can-stdin
  jc "d['error']['code']=='can-incorrect'"
  ;;

identity)
  expect_in 0 $'123456\n' "$TL" --reader "$R0" identity --can-stdin --photo "$tmp/face.png" \
    --csca "$PKI/csca.pem"
  # Human output: names without ICAO fillers, dates as dates (tools/cnie-tool/identity_text.c).
  has "Surname: BENALI"; has "Other names: بنعلي فاطمة الزهراء"; has "Date of birth: 15 March 1990"
  has "Passive Authentication: pass"
  python3 - "$tmp/face.png" <<'PY' || fail "photo is not a 240x320 PNG"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "magic"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (240, 320), (w, h)
PY
  [ "$(stat -c %a "$tmp/face.png")" = 600 ] || fail "photo file not 0600"
  expect_in 0 $'123456\n' "$TL" --reader "$R0" --json identity --can-stdin --csca "$PKI"
  jc "d['access']=='PACE'" "d['mrz']['document_number']=='ZT0000001'" \
     "d['mrz']['surname']=='BENALI' and d['mrz']['given_names']=='FATIMA ZAHRA'" \
     "d['mrz']['birth_date']=='900315' and d['mrz']['sex']=='F'" \
     "d['dg11']['other_names']==['بنعلي<<فاطمة الزهراء']" \
     "d['dg12']['issuing_authority']=='DGSN TEST'" \
     "d['photo']['format']=='jpeg' and d['photo']['width']==240" \
     "d['passive_authentication']['verdict']=='pass'" \
     "d['passive_authentication']['dg']['1']=='match'" "d['files']['dg2']>1000"
  # The MRZ as the secret (PACE with the MRZ), from stdin.
  mrz=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['secrets']['mrz'])" "$CARDS/ec/card.json")
  expect_in 0 "$mrz"$'\n' "$TL" --reader "$R0" --json identity --mrz-stdin
  jc "d['mrz']['document_number']=='ZT0000001'" "'passive_authentication' not in d"
  # A wrong CSCA: Passive Authentication fails, exit 1.
  expect_in 1 $'123456\n' "$TL" --reader "$R0" --json identity --can-stdin --csca "$PKI/other-csca.pem"
  jc "d['passive_authentication']['verdict']=='fail'"
  # A wrong CAN: exit 4.
  expect_in 4 $'111111\n' "$TL" --reader "$R0" --json identity --can-stdin
  jc "d['error']['code']=='can-incorrect'"
  # The RSA card over the contactless reader (PACE with its CAN, DG2 over the air).
  insert 1 "$CARDS/rsa"
  expect_in 0 $'234567\n' "$TL" --reader "$R1" --json identity --can-stdin --csca "$PKI/csca.pem" \
    --photo "$tmp/face2.png"
  jc "d['access']=='PACE'" "d['passive_authentication']['verdict']=='pass'" \
     "d['photo']['file'].endswith('face2.png')" "d['mrz']['issuing_state']=='MAR'"
  # The CAN through pinentry (the Assuan client), then a cancelled pinentry.
  printf '123456\n' > "$tmp/answers"; rm -f "$tmp/answers.used"
  PINENTRY_TEST_ANSWERS=$tmp/answers expect 0 "$TL" --reader "$R0" --json identity \
    --pinentry "$here/pinentry-test"
  jc "d['mrz']['nationality']=='MAR'"
  printf 'CANCEL\n' > "$tmp/answers"; rm -f "$tmp/answers.used"
  PINENTRY_TEST_ANSWERS=$tmp/answers expect 5 "$TL" --reader "$R0" identity \
    --pinentry "$here/pinentry-test"
  ;;

certs)
  expect 0 "$TL" --reader "$R0" certs --ca "$PKI/citizen-ca.pem"
  has "Authentication certificate"; has "key:      EC P-384"; has "chain:    ok"
  expect 0 "$TL" --reader "$R0" --json certs --ca "$PKI/citizen-ca.pem"
  jc "len(d['certificates'])==2" "all(c['chain']['result']=='ok' for c in d['certificates'])" \
     "d['certificates'][0]['certificate']['key_usage']==['digitalSignature']" \
     "d['certificates'][1]['certificate']['key_usage']==['nonRepudiation']"
  # The wrong CA: chain check fails, exit 1.
  expect 1 "$TL" --reader "$R0" --json certs --ca "$PKI/csca.pem"
  jc "all(c['chain']['result']=='untrusted' and c['chain']['name']=='CNIE_ERR_UNTRUSTED' for c in d['certificates'])"
  expect 0 "$TL" --reader "$R0" certs --export auth --out "$tmp/auth.pem"
  openssl verify -CAfile "$PKI/citizen-ca.pem" "$tmp/auth.pem" >/dev/null || fail "exported PEM"
  expect 0 "$TL" --reader "$R0" certs --export sign --der --out "$tmp/sign.der"
  subj=$(openssl x509 -inform DER -in "$tmp/sign.der" -noout -subject)
  [[ $subj == *"(Signature)"* ]] || fail "exported DER"
  expect 0 "$TL" --reader "$R0" certs --export all
  [ "$(grep -c 'BEGIN CERTIFICATE' "$tmp/out")" = 2 ] || fail "export all to stdout"
  ;;

pin)
  expect 0 "$TL" --reader "$R0" pin status
  has "Status: PIN 3 tries left, PUK 10 tries left"
  expect_in 4 $'4321\n' "$TL" --reader "$R0" --json pin verify --pin-stdin
  jc "d['result']=='pin-incorrect'" "d['tries_left']==2" \
     "d['before']['pin']['tries_left']==3" "d['after']['pin']['tries_left']==2"
  expect_in 0 $'1234\n' "$TL" --reader "$R0" pin verify --pin-stdin
  has "Before: PIN 2 tries left"; has "verify: OK"
  # change: old and new PIN as two lines; then the new PIN verifies.
  expect_in 0 $'1234\n567890\n' "$TL" --reader "$R0" --json pin change --pin-stdin
  jc "d['result']=='ok'"
  expect_in 0 $'567890\n' "$TL" --reader "$R0" --json pin verify --pin-stdin
  jc "d['result']=='ok'"
  # Block the PIN with three wrong tries, unblock with the PUK.
  for _ in 1 2 3; do expect_in 4 $'0000\n' "$TL" --reader "$R0" pin verify --pin-stdin; done
  expect 0 "$TL" --reader "$R0" --json pin status
  jc "d['pin']['blocked'] is True and d['pin']['tries_left']==0"
  expect_in 4 $'1234\n' "$TL" --reader "$R0" --json pin verify --pin-stdin
  jc "d['result']=='pin-blocked'" "d['name']=='CNIE_ERR_PIN_BLOCKED'"
  expect_in 4 $'11111111\n1234\n' "$TL" --reader "$R0" --json pin unblock --pin-stdin
  jc "d['result']=='pin-incorrect'" "d['after']['puk']['tries_left']==9"
  expect_in 0 $'12345678\n1234\n' "$TL" --reader "$R0" --json pin unblock --pin-stdin
  jc "d['result']=='ok'" "d['before']['pin']['blocked'] is True" \
     "d['after']['pin']['tries_left']==3" "d['after']['puk']['tries_left']==10"
  # pinentry: verify, and a change with the confirmation differing.
  printf '1234\n' > "$tmp/answers"; rm -f "$tmp/answers.used"
  PINENTRY_TEST_ANSWERS=$tmp/answers PINENTRY_TEST_LOG=$tmp/plog expect 0 "$TL" \
    --reader "$R0" --json pin verify --pinentry "$here/pinentry-test"
  jc "d['result']=='ok'"
  grep -q "SETDESC Enter the PIN" "$tmp/plog" || fail "pinentry not asked"
  printf '1234\n5555\n6666\n' > "$tmp/answers"; rm -f "$tmp/answers.used"
  PINENTRY_TEST_ANSWERS=$tmp/answers expect 4 "$TL" --reader "$R0" --json pin change \
    --pinentry "$here/pinentry-test"
  jc "d['result']=='pin-format'" "d['after']['pin']['tries_left'] in (3,-1)"
  printf 'CANCEL\n' > "$tmp/answers"; rm -f "$tmp/answers.used"
  PINENTRY_TEST_ANSWERS=$tmp/answers expect 5 "$TL" --reader "$R0" pin verify \
    --pinentry "$here/pinentry-test"
  # The PIN pad reader: keys queued with cnie-sim, no secret on the host.
  "$SIM" --reader 2 keys 1234
  expect 0 "$TL" --reader "$R2" --json pin verify
  jc "d['result']=='ok'" "d['pinpad'] is True"
  "$SIM" --reader 2 keys 9999
  expect 4 "$TL" --reader "$R2" --json pin verify
  jc "d['result']=='pin-incorrect'" "d['after']['pin']['tries_left']==2"
  # PIN change on the PIN pad (current, new, new again), a cancel on the pad.
  "$SIM" --reader 2 keys 1234 4321 4321
  expect 0 "$TL" --reader "$R2" --json pin change
  jc "d['result']=='ok'" "d['pinpad'] is True"
  "$SIM" --reader 2 keys 4321
  expect 0 "$TL" --reader "$R2" pin verify
  "$SIM" --reader 2 keys cancel
  expect 5 "$TL" --reader "$R2" --json pin verify
  jc "d['result']=='user-cancelled'"
  # The insecure argv flag is explicit and works.
  expect 0 "$TL" --reader "$R0" pin verify --pin-argv-insecure 1234
  ;;

sign)
  echo "document to sign" > "$tmp/doc"
  for key in auth sign; do
    expect_in 0 $'1234\n' "$TL" --reader "$R0" --json sign --key "$key" --in "$tmp/doc" \
      --out "$tmp/$key.sig" --pin-stdin
    jc "d['key']=='$key'" "d['algorithm']=='ECDSA (DER)'" "d['hash_alg']=='sha256'"
    expect 0 "$TL" --reader "$R0" verify --key "$key" --in "$tmp/doc" --sig "$tmp/$key.sig"
    has "VALID"
    expect 0 "$TL" --reader "$R0" certs --export "$key" --out "$tmp/$key.pem"
    openssl x509 -in "$tmp/$key.pem" -pubkey -noout > "$tmp/$key.pub"
    openssl dgst -sha256 -verify "$tmp/$key.pub" -signature "$tmp/$key.sig" "$tmp/doc" \
      >/dev/null || fail "OpenSSL does not verify the $key signature"
  done
  # A hash given in hex, SHA-384, raw r||s; verify with the certificate file.
  h=$(openssl dgst -sha384 -r "$tmp/doc" | cut -d' ' -f1)
  expect_in 0 $'1234\n' "$TL" --reader "$R0" sign --key sign --hash "$h" --hash-alg sha384 \
    --raw --out "$tmp/raw.sig" --pin-stdin
  [ "$(stat -c %s "$tmp/raw.sig")" = 96 ] || fail "P-384 r||s is 96 bytes"
  expect 0 "$TL" --json verify --cert "$tmp/sign.pem" --in "$tmp/doc" --hash-alg sha384 \
    --sig "$tmp/raw.sig"
  jc "d['valid'] is True"
  # Tampered document: invalid, exit 1.
  echo "other document" > "$tmp/doc2"
  expect 1 "$TL" --json verify --cert "$tmp/sign.pem" --in "$tmp/doc2" --sig "$tmp/sign.sig"
  jc "d['valid'] is False"
  # Wrong PIN: nothing signed, exit 4.
  expect_in 4 $'9999\n' "$TL" --reader "$R0" sign --key sign --in "$tmp/doc" \
    --out "$tmp/x.sig" --pin-stdin
  [ ! -e "$tmp/x.sig" ] || fail "signature written after a wrong PIN"
  # RSA card (contactless): CAN then PIN on stdin; PKCS#1 v1.5 and PSS.
  "$SIM" --reader 1 remove 2>/dev/null || true
  insert 1 "$CARDS/rsa"
  expect_in 0 $'234567\n1234\n' "$TL" --reader "$R1" sign --key auth --in "$tmp/doc" \
    --out "$tmp/rsa.sig" --pin-stdin
  expect_in 0 $'234567\n' "$TL" --reader "$R1" certs --can-stdin --export auth --out "$tmp/rsa.pem"
  expect 0 "$TL" verify --cert "$tmp/rsa.pem" --in "$tmp/doc" --sig "$tmp/rsa.sig"
  expect_in 0 $'234567\n1234\n' "$TL" --reader "$R1" sign --key sign --pss --in "$tmp/doc" \
    --out "$tmp/pss.sig" --pin-stdin
  [ "$(stat -c %s "$tmp/pss.sig")" = 384 ] || fail "RSA-3072 signature is 384 bytes"
  ;;

refcard)
  # The in-process reference card: no pcscd at all.
  cp -r "$CARDS/ec" "$tmp/ec"
  expect 0 "$TL" --reference-card "$tmp/ec" --json info
  jc "d['card']['serial']=='81D8DD304F8A3E96'" "d['reader'].startswith('reference card')"
  expect_in 0 $'1234\n' "$TL" --reference-card "$tmp/ec" --json pin verify --pin-stdin
  jc "d['result']=='ok'"
  expect_in 0 $'123456\n' "$TL" --reference-card "$tmp/ec" --json identity --can-stdin \
    --csca "$PKI/csca.pem"
  jc "d['passive_authentication']['verdict']=='pass'"
  expect 0 "$TL" --reference-card "$tmp/ec" --json doctor --no-bridge
  jc "d['result'] in ('OK','WARN')" "d['summary']['fail']==0"
  dcheck card-recognised OK
  ;;

doctor-ok)
  expect 0 "$TL" --reader "$R0" doctor --ca "$PKI/citizen-ca.pem" --report "$tmp/report.json"
  has "\[OK  \] pcscd is running"; has "CNIE recognised"
  "$J" "$tmp/report.json" "d['summary']['fail']==0" || fail "report"
  # No personal data in the report: no name, no serial in clear.
  if grep -E -q "BENALI|FATIMA|81D8DD304F8A3E96|ZT0000001" "$tmp/report.json"; then
    fail "personal data in the report"
  fi
  expect 0 "$TL" --reader "$R0" --json doctor --ca "$PKI/citizen-ca.pem"
  jc "d['summary']['fail']==0" "len(d['card_id_sha256_prefix'])==16"
  dcheck pcscd OK - readers OK - usb OK - card OK - card-recognised OK - applications OK - \
    pin OK - puk OK - certificate-auth OK - certificate-sign OK - chain-auth OK - chain-sign OK -
  # Two cards, no --reader: checked, with a WARN asking for --reader.
  expect 0 "$TL" --json doctor
  dcheck card WARN "--reader"
  # Module file registered for p11-kit (user directory).
  mkdir -p "$HOME/.config/pkcs11/modules"
  printf 'module: cnie-pkcs11.so\n' > "$HOME/.config/pkcs11/modules/cnie.module"
  expect 0 "$TL" --reader "$R0" --json doctor
  dcheck pkcs11-p11kit OK
  ;;

doctor-no-pcscd)
  expect 1 "$TL" doctor
  has "\[FAIL\] pcscd is not running"; has "fix: sudo systemctl enable --now pcscd.socket"
  expect 1 "$TL" --json doctor
  dcheck pcscd FAIL "pcscd"
  jc "d['result']=='FAIL'"
  ;;

doctor-no-reader)
  expect 1 "$TL" --json doctor
  dcheck pcscd OK - readers FAIL "plug in"
  expect 1 "$TL" doctor
  has "\[FAIL\] no smart card reader is seen by pcscd"
  ;;

doctor-no-card)
  "$SIM" --reader 0 remove
  "$SIM" --reader 2 remove
  expect 1 "$TL" --json doctor
  dcheck readers OK - card FAIL "insert the card"
  expect 1 "$TL" doctor
  has "\[FAIL\] no card in any reader"
  ;;

doctor-contactless)
  # The only card is on the contactless reader: without the CAN doctor says
  # so (WARN), with --can-stdin it checks the card.
  "$SIM" --reader 0 remove
  "$SIM" --reader 2 remove
  insert 1 "$CARDS/ec"
  expect 0 "$TL" --json doctor
  dcheck card OK - card-recognised WARN "CAN"
  expect_in 0 $'123456\n' "$TL" --json doctor --can-stdin --ca "$PKI/citizen-ca.pem"
  dcheck card-recognised OK - pin OK - chain-auth OK -
  ;;

doctor-unknown-card)
  "$here/make-unknown-card" "$CARDS/ec" "$tmp/unknown"
  "$SIM" --reader 0 remove 2>/dev/null || true
  insert 0 "$tmp/unknown"
  expect 1 "$TL" --reader "$R0" --json doctor
  dcheck card OK - card-recognised FAIL "insert a CNIE"
  expect 3 "$TL" --reader "$R0" --json info
  jc "d['error']['code']=='card-not-recognised'"
  ;;

doctor-pin-blocked)
  "$SIM" --reader 0 remove 2>/dev/null || true
  insert 0 "$CARDS/blocked" "$tmp/blocked-state.json"
  expect 1 "$TL" --reader "$R0" --json doctor
  dcheck pin FAIL "cnie-tool pin unblock" puk OK
  expect 1 "$TL" --reader "$R0" doctor
  has "\[FAIL\] the PIN is blocked"
  ;;

doctor-expired)
  "$SIM" --reader 0 remove 2>/dev/null || true
  insert 0 "$CARDS/expired"
  expect 1 "$TL" --reader "$R0" --json doctor --ca "$PKI/citizen-ca.pem"
  dcheck certificate-auth FAIL "renew" certificate-sign FAIL "renew" pin OK
  expect 1 "$TL" --reader "$R0" doctor
  has "\[FAIL\] the authentication certificate expired on"
  ;;

doctor-bridge)
  # Not running: no port file -> WARN with the fix; exit stays 0.
  expect 0 "$TL" --reader "$R0" --json doctor
  dcheck bridge WARN "systemctl --user"
  jc "any('not running' in c['message'] for c in d['checks'] if c['id']=='bridge')"
  # A stale port file (nothing listens): WARN.
  mkdir -p "$XDG_STATE_HOME/cnied"
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  echo "127.0.0.1:$port" > "$XDG_STATE_HOME/cnied/cnied.port"
  expect 0 "$TL" --reader "$R0" --json doctor
  dcheck bridge WARN "restart"
  # Something listening: the bridge counts as running; its CA missing -> WARN.
  python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write("127.0.0.1:%d\n" % s.getsockname()[1])
time.sleep(600)' "$XDG_STATE_HOME/cnied/cnied.port" &
lpid=$!
  for _ in $(seq 50); do grep -q ":" "$XDG_STATE_HOME/cnied/cnied.port" 2>/dev/null &&
    [ "$(cat "$XDG_STATE_HOME/cnied/cnied.port")" != "127.0.0.1:$port" ] && break; sleep 0.1; done
  expect 0 "$TL" --reader "$R0" --json doctor
  dcheck bridge OK - bridge-trust WARN "restart cnied"
  # A CA, an NSS database without it (WARN, fix `bridge trust`), then with it (OK).
  command -v certutil >/dev/null || { kill "$lpid"; echo "PASS $case_name (no certutil)"; exit 0; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
    -subj "/CN=cnied test CA" -days 2 -out "$XDG_STATE_HOME/cnied/ca.pem" 2>/dev/null
  mkdir -p "$HOME/.pki/nssdb"
  certutil -N -d "sql:$HOME/.pki/nssdb" --empty-password
  expect 0 "$TL" --reader "$R0" --json doctor
  dcheck bridge OK - bridge-trust WARN "cnie-tool bridge trust" pkcs11-nss WARN "cnie-tool register"
  certutil -A -d "sql:$HOME/.pki/nssdb" -n "some other CA" -t "C,," -a -i "$PKI/csca.pem"
  expect 0 "$TL" --reader "$R0" --json doctor
  dcheck bridge-trust WARN "cnie-tool bridge trust"
  certutil -A -d "sql:$HOME/.pki/nssdb" -n "CNIE local bridge CA" -t "C,," -a \
    -i "$XDG_STATE_HOME/cnied/ca.pem"
  # The module through p11-kit-proxy in the NSS database.
  proxy=$(ls /usr/lib/*/p11-kit-proxy.so 2>/dev/null | head -1 || true)
  if [ -n "$proxy" ]; then
    modutil -force -dbdir "sql:$HOME/.pki/nssdb" -add p11-kit-proxy -libfile "$proxy" >/dev/null 2>&1
  fi
  expect 0 "$TL" --reader "$R0" --json doctor
  kill "$lpid" 2>/dev/null || true
  dcheck bridge OK - bridge-trust OK -
  if [ -n "$proxy" ]; then dcheck pkcs11-nss OK; fi
  ;;

*)
  fail "unknown case"
  ;;
esac
echo "PASS $case_name"
