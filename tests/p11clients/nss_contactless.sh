#!/usr/bin/env bash
# NSS with the card on the contactless reader (pkcs11/README.md
# "Contactless"): the token appears in a database with nothing sent to the
# card and no dialog (modutil -list, certutil -L -h all: no certificate
# before login, a stable token name), then TLS client authentication with
# the card's authentication key (tests/browser/tls_client_auth.sh, shared
# with the Firefox check): NSS logs in with the PIN from a file, the module
# asks the CAN through the scripted pinentry (CNIE_PINENTRY), PACE, VERIFY
# under secure messaging, the handshake signature; the server, requiring a
# certificate of the card's CA, answers.  Without the card's certificate
# the same server refuses.
#   nss_contactless.sh MODULE [ec|rsa]   (under with-pcscd --virtual --apdu-log)
. "$(dirname "$0")/common.sh"
need modutil certutil tstclnt openssl
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/browser/tls_client_auth.sh
. "$here/../browser/tls_client_auth.sh"
# tstclnt loads the module: the sanitizer runtime first when it is an ASan build.
TLS_CLIENT_ENV=("${CLIENT_ENV[@]}")
CL=1
"$SIM" --reader "$READER" remove >/dev/null || { echo "FAIL: cnie-sim remove"; exit 2; }
"$SIM" --reader "$CL" insert "$CARDDIR" >/dev/null || { echo "FAIL: cnie-sim --reader $CL insert"; exit 2; }
export CNIE_PINENTRY=$here/../harness/pinentry-script
export PINENTRY_SCRIPT_LOG=$T/pinentry.log
PINENTRY_SCRIPT_CAN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secrets"]["can"])' "$CARDDIR/card.json")
export PINENTRY_SCRIPT_CAN
dialogs() { local n; n=$(grep -c '^GETPIN' "$PINENTRY_SCRIPT_LOG" 2>/dev/null); echo "${n:-0}"; }
paces() { local n; n=$(grep -c 'APDU: 00 22 C1 A4' "$CNIE_PCSCD_LOG" 2>/dev/null); echo "${n:-0}"; }

db=sql:$T/nssdb
mkdir -p "$T/nssdb"
certutil -N -d "$db" --empty-password || { fail "certutil -N"; finish; }
umask 077
printf '%s\n' "$PIN" >"$T/pin.txt"
o=$(client modutil -dbdir "$db" -add cnie -libfile "$MODULE" -force 2>&1) || { echo "$o"; fail "modutil -add"; finish; }
o=$(client modutil -dbdir "$db" -list cnie 2>&1)
echo "$o" | sed 's/^/  | /'
grep -q 'Token Name: *CNIE contactless' <<<"$o" && ok "NSS sees the contactless token ('CNIE contactless')" ||
  fail "modutil -list shows no contactless token"
o=$(client certutil -d "$db" -L -h all 2>&1)
grep -q '^CNIE contactless:' <<<"$o" && fail "certificates listed before login: $o" ||
  ok "no certificate before login (objects appear after C_Login)"
[ "$(dialogs)" = 0 ] && [ "$(paces)" = 0 ] && ok "no dialog and no PACE while NSS loads the token" ||
  fail "$(dialogs) dialogs, $(paces) PACE runs before any login"

# Without the card: refused (the check can fail).
mkdir -p "$T/plain" "$T/tls"
certutil -N --empty-password -d "sql:$T/plain"
if tls_client_auth "sql:$T/plain" "" "" "$CNIE_BUILD_DIR/cards/pki/citizen-ca.pem" "$T/tls"; then
  fail "the server accepted a client without the card"
else
  ok "without the card's certificate the server refuses"
fi
if tls_client_auth "$db" "CNIE contactless:Authentication key" "$T/pin.txt" \
    "$CNIE_BUILD_DIR/cards/pki/citizen-ca.pem" "$T/tls"; then
  ok "NSS TLS client authentication with the contactless card"
else
  fail "NSS TLS client authentication with the contactless card"
fi
[ "$(dialogs)" = 1 ] && ok "one CAN dialog" || fail "$(dialogs) CAN dialogs (want 1)"
[ "$(paces)" = 1 ] && ok "one PACE" || fail "$(paces) PACE runs (want 1)"
grep -q '^TITLE tstclnt' "$PINENTRY_SCRIPT_LOG" && ok "the dialog names tstclnt" ||
  fail "the dialog does not name tstclnt: $(grep '^TITLE' "$PINENTRY_SCRIPT_LOG")"
# The label stays (NSS keeps the token name it read at insertion).
o=$(client modutil -dbdir "$db" -list cnie 2>&1)
grep -q 'Token Name: *CNIE contactless' <<<"$o" && ok "the token name is unchanged" || fail "the token name changed"
finish
