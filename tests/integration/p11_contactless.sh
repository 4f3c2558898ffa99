#!/usr/bin/env bash
# The card on the virtual contactless reader through cnie-pkcs11.so
# (pkcs11/README.md "Contactless"), with real clients:
#  - pkcs11-tool -L / -O: the token is there with nothing sent to the card
#    and no dialog, no object before login;
#  - pkcs11-tool --login --sign with the CAN given by the scripted pinentry
#    named in CNIE_PINENTRY: one dialog naming pkcs11-tool, one PACE, one
#    VERIFY under secure messaging; the signature verifies with OpenSSL
#    against the card's authentication certificate (read from the card's
#    files, not through the module);
#  - cancel: CKR_FUNCTION_CANCELED, nothing sent; a wrong CAN: a clean
#    CKR_FUNCTION_FAILED after exactly one PACE, no VERIFY;
#  - PyKCS11 (tests/p11clients/pykcs11_contactless.py): the same in one
#    process, the next login asking again, and the session ended by another
#    client's plain APDU or reset, recovered with the kept CAN;
#  - the PACE reader (virtual reader 3): CAN and PIN on its keypad, none of
#    them through the computer.
# PACE runs and VERIFYs are counted in pcscd's APDU log: what the card saw.
#
# usage: p11_contactless.sh MODULE [ec|rsa]
#        (under tests/harness/with-pcscd --virtual --hide-usb --apdu-log)
. "$(dirname "$0")/../p11clients/common.sh"
need pkcs11-tool openssl python3 opensc-tool
# Debian's python3-pykcs11 is for the system's python3 (a pyenv one may come first).
PY=
for p in python3 /usr/bin/python3; do
  if [ -z "$PY" ] && "$p" -c 'import PyKCS11' 2>/dev/null; then PY=$p; fi
done
[ -n "$PY" ] || skip "PyKCS11 not installed (python3-pykcs11, scripts/deps.d/p11contactless.sh)"
[ -n "${CNIE_PCSCD_LOG:-}" ] || { echo "FAIL: not run under with-pcscd --apdu-log"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
CL=1 # the virtual contactless reader (tests/harness/setup-virtual-readers)
CL_NAME="CNIE Virtual Contactless Reader"

# The card moves from the contact reader (common.sh) to the contactless one.
"$SIM" --reader "$READER" remove >/dev/null || { echo "FAIL: cnie-sim remove"; exit 2; }
"$SIM" --reader "$CL" insert "$CARDDIR" >/dev/null || { echo "FAIL: cnie-sim --reader $CL insert"; exit 2; }

export CNIE_PINENTRY=$here/../harness/pinentry-script
export PINENTRY_SCRIPT_LOG=$T/pinentry.log PINENTRY_SCRIPT_ENV=$T/pinentry.env
: >"$PINENTRY_SCRIPT_ENV"
answers() { printf '%s\n' "$@" >"$PINENTRY_SCRIPT_ENV"; }
# The test card's CAN (card.json "secrets"), and a wrong one.
CAN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secrets"]["can"])' "$CARDDIR/card.json")
BADCAN=654321; [ "$CAN" = "$BADCAN" ] && BADCAN=111111
dialogs() { local n; n=$(grep -c '^GETPIN' "$PINENTRY_SCRIPT_LOG" 2>/dev/null); echo "${n:-0}"; }
# Command APDUs in pcscd's log once it stopped growing.
apdu_log() {
  local a b
  b=$(grep -c 'APDU: ' "$CNIE_PCSCD_LOG" || true)
  while :; do
    a=$b; sleep 0.1; b=$(grep -c 'APDU: ' "$CNIE_PCSCD_LOG" || true)
    [ "$a" = "$b" ] && break
  done
  grep 'APDU: ' "$CNIE_PCSCD_LOG" | sed 's/.*APDU: //'
}
count() { apdu_log | grep -c "^$1" || true; }
paces() { count '00 22 C1 A4'; }
verifies() { count '0[0C] 20 00 81'; }
apdus() { apdu_log | wc -l; }
p11() { client pkcs11-tool --module "$MODULE" "$@"; }

# 1. Present without a dialog or an APDU.
n0=$(apdus)
o=$(p11 -L 2>&1); rc=$?
echo "$o" | sed 's/^/  | /'
[ "$rc" = 0 ] && grep -q 'token label *: CNIE contactless' <<<"$o" &&
  ok "pkcs11-tool -L: the contactless card is a token ('CNIE contactless')" ||
  fail "pkcs11-tool -L shows no contactless token"
grep -q 'contactless: no token' <<<"$o" && fail "the slot still says 'contactless: no token'"
o=$(p11 -O 2>&1)
grep -q 'Object' <<<"$o" && fail "objects listed before login: $o" || ok "no object before login"
[ "$(apdus)" = "$n0" ] && ok "no APDU sent for the slot list, token info and object list" ||
  fail "$(( $(apdus) - n0 )) APDUs sent before any login"
[ "$(dialogs)" = 0 ] && ok "no dialog before login" || fail "a dialog before login"

# 2. Cancel, then a wrong CAN: nothing / one PACE, no VERIFY, clean errors.
answers PINENTRY_SCRIPT_CANCEL=1
p0=$(paces) v0=$(verifies) n0=$(apdus)
o=$(p11 --login --pin "$PIN" -O 2>&1); rc=$?
[ "$rc" != 0 ] && grep -q 'CKR_FUNCTION_CANCELED' <<<"$o" && ok "cancel: CKR_FUNCTION_CANCELED" ||
  fail "cancel: exit $rc, $(tail -n 2 <<<"$o")"
[ "$(apdus)" = "$n0" ] && ok "cancel: no APDU" || fail "cancel: $(( $(apdus) - n0 )) APDUs"
answers PINENTRY_SCRIPT_CAN=$BADCAN
o=$(p11 --login --pin "$PIN" -O 2>&1); rc=$?
[ "$rc" != 0 ] && grep -q 'CKR_FUNCTION_FAILED' <<<"$o" && ok "wrong CAN: CKR_FUNCTION_FAILED" ||
  fail "wrong CAN: exit $rc, $(tail -n 2 <<<"$o")"
grep -q 'PIN_INCORRECT' <<<"$o" && fail "a wrong CAN reported as a wrong PIN"
[ $(( $(paces) - p0 )) = 1 ] && ok "wrong CAN: exactly one PACE on the card" ||
  fail "wrong CAN: $(( $(paces) - p0 )) PACE runs (want 1)"
[ "$(verifies)" = "$v0" ] && ok "wrong CAN: no VERIFY (the PIN not sent)" || fail "a VERIFY after a wrong CAN"
[ "$(dialogs)" = 2 ] && ok "one dialog per answer (2)" || fail "$(dialogs) dialogs (want 2)"

# 3. pkcs11-tool --login --sign with the right CAN; OpenSSL verifies.
: >"$PINENTRY_SCRIPT_LOG"
answers PINENTRY_SCRIPT_CAN="$CAN"
p0=$(paces) v0=$(verifies)
kid=$(openssl x509 -in "$T/auth.pem" -noout -ext subjectKeyIdentifier | sed -n '2s/[ :]//gp' | tr 'A-F' 'a-f')
printf 'cnie contactless pkcs11-tool test\n' >"$T/data"
case $CARD in
  ec) mech=ECDSA-SHA256; fmt=(--signature-format openssl) ;;
  *) mech=SHA256-RSA-PKCS; fmt=() ;;
esac
o=$(p11 --login --pin "$PIN" --sign --id "$kid" -m "$mech" "${fmt[@]}" -i "$T/data" -o "$T/sig" 2>&1); rc=$?
echo "$o" | sed 's/^/  | /'
[ "$rc" = 0 ] && ok "pkcs11-tool --login --sign (key id $kid, $mech)" || fail "pkcs11-tool --sign exited $rc"
openssl x509 -in "$T/auth.pem" -noout -pubkey >"$T/auth.pub"
if [ -s "$T/sig" ] && openssl dgst -sha256 -verify "$T/auth.pub" -signature "$T/sig" "$T/data" >/dev/null 2>&1; then
  ok "the signature verifies against the card's authentication certificate"
else
  fail "the signature does not verify"
fi
[ $(( $(paces) - p0 )) = 1 ] && ok "one PACE" || fail "$(( $(paces) - p0 )) PACE runs (want 1)"
[ $(( $(verifies) - v0 )) = 1 ] && apdu_log | grep -q '^0C 20 00 81' &&
  ok "one VERIFY, under secure messaging (CLA 0C)" || fail "VERIFY: $(( $(verifies) - v0 )) (want 1, CLA 0C)"
apdu_log | grep -q '^00 20 00 81' && fail "a VERIFY in plain went to the contactless card"
[ "$(dialogs)" = 1 ] && ok "one CAN dialog" || fail "$(dialogs) dialogs (want 1)"
grep -q '^TITLE pkcs11-tool' "$PINENTRY_SCRIPT_LOG" && ok "the dialog names the application: $(grep '^TITLE' "$PINENTRY_SCRIPT_LOG")" ||
  fail "the dialog does not name pkcs11-tool: $(grep '^TITLE' "$PINENTRY_SCRIPT_LOG")"
grep -q "^DESC .*$CL_NAME" "$PINENTRY_SCRIPT_LOG" && ok "the dialog names the reader" || fail "the dialog does not name the reader"
grep -q '^ERROR' "$PINENTRY_SCRIPT_LOG" && fail "a new process's first dialog shows an error"

# 4. PyKCS11, one process: cancel, wrong CAN, asked again, sessions ended by others.
if [ "$CARD" = ec ]; then
  : >"$PINENTRY_SCRIPT_LOG"
  mkdir -p "$T/py"
  client "$PY" "$here/../p11clients/pykcs11_contactless.py" "$MODULE" "$PINENTRY_SCRIPT_ENV" \
    "$PINENTRY_SCRIPT_LOG" "$CNIE_PCSCD_LOG" "$T/py" "$CL" 2>&1 | sed 's/^/  py| /'
  [ "${PIPESTATUS[0]}" = 0 ] && ok "PyKCS11: every check passed" || fail "PyKCS11 checks failed"
  nsig=0
  for s in "$T"/py/sig-*.der; do
    [ -f "$s" ] || continue
    nsig=$((nsig + 1))
    openssl dgst -sha256 -verify "$T/auth.pub" -signature "$s" "$T/py/data.bin" >/dev/null 2>&1 &&
      ok "PyKCS11 signature $(basename "$s") verifies" || fail "PyKCS11 signature $(basename "$s") does not verify"
  done
  [ "$nsig" = 3 ] && ok "3 PyKCS11 signatures" || fail "$nsig PyKCS11 signatures (want 3)"
fi
# The dialog in the application's language (the application sets the
# locale, as Firefox does; the module only reads it): French and Arabic.
if [ "$CARD" = ec ]; then
  # shellcheck source=tests/l10n/locales.sh
  . "$here/../l10n/locales.sh"
  # Builds the locales (or skips the test: under CI=true a failure).
  cnie_l10n_locales "$CNIE_BUILD_DIR"
  ( answers PINENTRY_SCRIPT_CANCEL=1
    for lang in fr_FR ar_MA; do
      : >"$PINENTRY_SCRIPT_LOG"
      LANG=$lang.UTF-8 client "$PY" -c '
import locale, sys, PyKCS11
locale.setlocale(locale.LC_ALL, "")
lib = PyKCS11.PyKCS11Lib(); lib.load(sys.argv[1])
s = lib.openSession(lib.getSlotList(tokenPresent=True)[0])
try:
    s.login("1234")
except PyKCS11.PyKCS11Error as e:
    print(e)' "$MODULE" >/dev/null 2>&1
      case $lang in
        fr_FR) want="carte d'identité sur un lecteur sans contact" ;;
        *) want="البطاقة الوطنية على قارئ بدون تلامس" ;;
      esac
      grep -qF "TITLE python3: $want" "$PINENTRY_SCRIPT_LOG" ||
        grep -qF "$want" "$PINENTRY_SCRIPT_LOG" &&
        echo "ok: the CAN dialog in $lang: $(grep '^TITLE' "$PINENTRY_SCRIPT_LOG")" ||
        echo "FAIL: the CAN dialog in $lang: $(grep '^TITLE' "$PINENTRY_SCRIPT_LOG")"
    done ) >"$T/l10n.out"
  cat "$T/l10n.out"
  [ "$(grep -c '^ok' "$T/l10n.out")" = 2 ] || fail "the CAN dialog in French and Arabic"
fi

# 5. A reader that runs PACE itself (virtual reader 3, FEATURE_EXECUTE_PACE):
# the CAN and the PIN are typed on its keypad; the computer sees neither
# (no dialog, no PACE step and no VERIFY from the host in pcscd's log).
PR=3
"$SIM" --reader "$CL" remove >/dev/null
if ! "$SIM" --reader "$PR" insert "$CARDDIR" >/dev/null; then
  fail "no PACE reader (virtual reader $PR) to put the card on"
else
  : >"$PINENTRY_SCRIPT_LOG"
  o=$(p11 --slot "$PR" -T 2>&1)
  grep -q 'token flags *:.*PIN pad present' <<<"$o" &&
    ok "PACE reader: CKF_PROTECTED_AUTHENTICATION_PATH (PIN on the reader)" ||
    fail "PACE reader: no protected authentication path: $(grep 'token flags' <<<"$o")"
  p0=$(paces) v0=$(verifies)
  printf '%s %s\n' "$CAN" "$PIN" | "$SIM" --reader "$PR" keys - >/dev/null ||
    fail "cnie-sim --reader $PR keys -"
  rm -f "$T/sig"
  o=$(p11 --slot "$PR" --login --sign --id "$kid" -m "$mech" "${fmt[@]}" -i "$T/data" -o "$T/sig" 2>&1); rc=$?
  echo "$o" | sed 's/^/  | /'
  [ "$rc" = 0 ] && ok "PACE reader: pkcs11-tool --login (no PIN) --sign" || fail "PACE reader: pkcs11-tool exited $rc"
  [ -s "$T/sig" ] && openssl dgst -sha256 -verify "$T/auth.pub" -signature "$T/sig" "$T/data" >/dev/null 2>&1 &&
    ok "PACE reader: the signature verifies" || fail "PACE reader: the signature does not verify"
  [ "$(dialogs)" = 0 ] && ok "PACE reader: no CAN dialog" || fail "PACE reader: $(dialogs) dialogs"
  [ "$(paces)" = "$p0" ] && [ "$(verifies)" = "$v0" ] &&
    ok "PACE reader: no PACE step and no VERIFY from the computer" ||
    fail "PACE reader: the host sent $(( $(paces) - p0 )) PACE runs, $(( $(verifies) - v0 )) VERIFYs"
fi
finish
