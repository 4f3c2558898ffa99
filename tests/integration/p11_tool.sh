#!/usr/bin/env bash
# cnie-pkcs11.so through OpenSC's pkcs11-tool against the reference card
# behind a private pcscd (run under tests/harness/with-pcscd --virtual):
# slots, objects, --test, --test-threads, --test-fork, and a signature with
# every mechanism and both keys, each verified by openssl against the
# certificate read back with pkcs11-tool.
#
# usage: p11_tool.sh MODULE ec|rsa   (the card in reader 0: CNIE_VIRTUAL_CARDS)
set -euo pipefail

module=$1 card=$2
# shellcheck source=tests/harness/skip.sh
. "$(dirname "$0")/../harness/skip.sh"
command -v pkcs11-tool >/dev/null || cnie_skip "pkcs11-tool (opensc) not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CNIE_NO_CACHE=1
fail=0
pass=0
ok() { echo "ok   - $*"; pass=$((pass + 1)); }
bad() { echo "FAIL - $*"; fail=$((fail + 1)); }
# An ASan build of the module inside the uninstrumented pkcs11-tool: the
# runtime must come first (leaks are checked by p11_api, built with ASan).
asan_preload() {
  ldd "$1" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ {printf "%s%s", sep, $3; sep=":"}'
}
preload=$(asan_preload "$module")
if [ -n "$preload" ]; then
  export LD_PRELOAD=$preload ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi
# The test card's PIN (tests/cards/*.json): pkcs11-tool takes it on argv only.
p11() { pkcs11-tool --module "$module" "$@"; }

# ---- slots and objects ---------------------------------------------------
p11 --list-slots >"$tmp/slots" 2>&1 || true
if grep -q 'CNIE Virtual Contact Reader' "$tmp/slots" &&
   grep -q 'CNIE Virtual PIN-pad Reader' "$tmp/slots" &&
   [ "$(grep -c 'token label *: ' "$tmp/slots")" = 2 ] &&
   grep -q 'PIN pad present' "$tmp/slots"; then
  ok "--list-slots: 3 readers, 2 tokens, PIN pad flag"
else
  bad "--list-slots"; cat "$tmp/slots"
fi
# Token labels: "CNIE " + the token's serial, so two cards differ.
labels_ok=1
while IFS=$'\t' read -r lbl ser; do
  [ "$lbl" = "CNIE $ser" ] && [[ $ser =~ ^[0-9A-Fa-f]{16}$ ]] || labels_ok=0
done < <(awk '/token label *:/ {sub(/.*token label *: */, ""); l=$0}
              /serial num *:/ {sub(/.*serial num *: */, ""); if (l != "") print l "\t" $0; l=""}' "$tmp/slots")
nl=$(sed -n 's/.*token label *: *//p' "$tmp/slots" | sort -u | grep -c .)
ns=$(awk '/token label *:/ {t=1} /serial num *:/ && t {sub(/.*serial num *: */, ""); print; t=0}' "$tmp/slots" | sort -u | grep -c .)
if [ "$labels_ok" = 1 ] && [ "$nl" = "$ns" ] && [ "$nl" -ge 1 ]; then
  ok "token labels are 'CNIE <serial>' ($nl distinct for $ns serials)"
else
  bad "token labels"; grep -E 'token label|serial num' "$tmp/slots"
fi

p11 --slot 0 --list-objects >"$tmp/pub" 2>&1 || true
if [ "$(grep -c '^Certificate Object' "$tmp/pub")" = 3 ] &&
   [ "$(grep -c '^Public Key Object' "$tmp/pub")" = 2 ] &&
   ! grep -q '^Private Key Object' "$tmp/pub"; then
  ok "--list-objects without login: 3 certificates (2 keys', the CA's), 2 public keys, no private key"
else
  bad "--list-objects"; cat "$tmp/pub"
fi

p11 --slot 0 --login --pin 1234 --list-objects >"$tmp/all" 2>&1 || true
if [ "$(grep -c '^Private Key Object' "$tmp/all")" = 2 ] &&
   [ "$(grep -c 'always authenticate' "$tmp/all")" = 1 ]; then
  ok "--list-objects with login: 2 private keys, one always-authenticate"
else
  bad "--list-objects --login"; cat "$tmp/all"
fi

# ---- the pkcs11-tool self tests -------------------------------------------
if p11 --slot 0 --login --pin 1234 --test >"$tmp/test" 2>&1 && grep -q '^No errors' "$tmp/test"; then
  ok "--login --test: no errors"
else
  bad "--login --test"; cat "$tmp/test"
fi
# OpenSC 0.23 starts the thread scripts around the main thread's
# C_Initialize in either order, so every script begins with its own IL
# (C_Initialize with CKF_OS_LOCKING_OK; CKR_CRYPTOKI_ALREADY_INITIALIZED is
# what the later ones must get).  Its cleanup sleeps 30 s when a thread
# outlives the main thread: the main thread runs --test-hotplug, which
# waits on stdin, and gets its "x" once the three threads have returned.
mkfifo "$tmp/thr.in"
p11 --use-locking --test-hotplug --test-threads ILGISLT0T1 --test-threads ILGISLT0T1T0 \
  --test-threads ILSLT1GIT0 <"$tmp/thr.in" >"$tmp/thr" 2>&1 &
thr_pid=$!
exec 3>"$tmp/thr.in"
for _ in $(seq 1 400); do
  [ "$(grep -c 'returning rv = ' "$tmp/thr")" -lt 3 ] || break
  kill -0 "$thr_pid" 2>/dev/null || break
  sleep 0.05
done
# pkcs11-tool gone already (it failed): no SIGPIPE for this script.
(trap '' PIPE; echo x >&3) 2>/dev/null || true
exec 3>&-
thr_rc=0
wait "$thr_pid" || thr_rc=$?
if [ "$thr_rc" = 0 ] && [ "$(grep -c 'returning rv = 0$' "$tmp/thr")" = 3 ] &&
   [ "$(grep -c 'ALREADY_INITIALIZED' "$tmp/thr")" -ge 2 ] &&
   ! grep -E 'rv:? ?CKR_|returned CKR_' "$tmp/thr" | grep -qv 'CKR_OK\|CKR_CRYPTOKI_ALREADY_INITIALIZED' &&
   ! grep -q 'waiting for 30' "$tmp/thr"; then
  ok "--test-threads (3 threads, each C_Initialize'd once, all CKR_OK)"
else
  bad "--test-threads (rc $thr_rc)"; cat "$tmp/thr"
fi
if p11 --slot 0 --test-fork >"$tmp/fork" 2>&1 && ! grep -qi 'error\|fail' "$tmp/fork"; then
  ok "--test-fork"
else
  bad "--test-fork"; cat "$tmp/fork"
fi

# ---- signatures --------------------------------------------------------------
# The keys' IDs (the CA certificate has no key): from the public key objects.
ids=$(awk '/^[A-Z]/ {k = /^Public Key Object/} k && /^ *ID:/ {print $2}' "$tmp/pub")
[ "$(grep -c . <<<"$ids")" = 2 ] && ok "2 key IDs" || bad "key IDs: $ids"
head -c 3000 /dev/urandom >"$tmp/data"
for h in sha1 sha224 sha256 sha384 sha512; do
  openssl dgst -"$h" -binary "$tmp/data" >"$tmp/$h.hash"
done
# DigestInfo (RFC 8017 9.2) of the SHA-256 hash, input of raw CKM_RSA_PKCS.
{ printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'
  cat "$tmp/sha256.hash"; } >"$tmp/digestinfo"

# sign KEYID MECH INPUT [pkcs11-tool options...]: signs into $tmp/sig.
sign() {
  local id=$1 mech=$2 in=$3
  shift 3
  p11 --slot 0 --login --pin 1234 --sign --id "$id" -m "$mech" --input-file "$in" \
    --output-file "$tmp/sig" "$@" >"$tmp/sign.log" 2>&1
}

for id in $ids; do
  p11 --slot 0 --read-object --type cert --id "$id" --output-file "$tmp/cert.der" >/dev/null 2>&1
  openssl x509 -inform DER -in "$tmp/cert.der" -pubkey -noout >"$tmp/pub.pem"
  if [ "$card" = ec ]; then
    for h in sha1 sha224 sha256 sha384 sha512; do
      H=$(echo "$h" | tr a-z A-Z)
      if sign "$id" "ECDSA-$H" "$tmp/data" --signature-format openssl &&
         openssl dgst -"$h" -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/data" >/dev/null; then
        ok "ECDSA-$H key $id"
      else
        bad "ECDSA-$H key $id"; cat "$tmp/sign.log"
      fi
      if sign "$id" ECDSA "$tmp/$h.hash" --signature-format openssl &&
         openssl pkeyutl -verify -pubin -inkey "$tmp/pub.pem" -in "$tmp/$h.hash" \
           -sigfile "$tmp/sig" >/dev/null; then
        ok "ECDSA (raw, $h hash) key $id"
      else
        bad "ECDSA raw $h key $id"; cat "$tmp/sign.log"
      fi
    done
  else
    if sign "$id" RSA-PKCS "$tmp/digestinfo" &&
       openssl pkeyutl -verifyrecover -pubin -inkey "$tmp/pub.pem" -in "$tmp/sig" \
         -pkeyopt rsa_padding_mode:pkcs1 -out "$tmp/rec" 2>/dev/null &&
       cmp -s "$tmp/rec" "$tmp/digestinfo"; then
      ok "RSA-PKCS (raw DigestInfo) key $id"
    else
      bad "RSA-PKCS key $id"; cat "$tmp/sign.log"
    fi
    for h in sha1 sha224 sha256 sha384 sha512; do
      H=$(echo "$h" | tr a-z A-Z)
      HA=$H
      [ "$h" != sha1 ] || HA=SHA-1
      if sign "$id" "$H-RSA-PKCS" "$tmp/data" &&
         openssl dgst -"$h" -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/data" >/dev/null; then
        ok "$H-RSA-PKCS key $id"
      else
        bad "$H-RSA-PKCS key $id"; cat "$tmp/sign.log"
      fi
      # pkcs11-tool derives hashAlg, MGF1 and sLen = hash length itself.
      if sign "$id" "$H-RSA-PKCS-PSS" "$tmp/data" &&
         openssl dgst -"$h" -verify "$tmp/pub.pem" -signature "$tmp/sig" \
           -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest "$tmp/data" >/dev/null; then
        ok "$H-RSA-PKCS-PSS key $id"
      else
        bad "$H-RSA-PKCS-PSS key $id"; cat "$tmp/sign.log"
      fi
      if sign "$id" RSA-PKCS-PSS "$tmp/$h.hash" --hash-algorithm "$HA" --mgf "MGF1-$H" &&
         openssl pkeyutl -verify -pubin -inkey "$tmp/pub.pem" -in "$tmp/$h.hash" \
           -sigfile "$tmp/sig" -pkeyopt rsa_padding_mode:pss -pkeyopt "digest:$h" \
           -pkeyopt rsa_pss_saltlen:digest >/dev/null; then
        ok "RSA-PKCS-PSS (raw, $h hash) key $id"
      else
        bad "RSA-PKCS-PSS raw $h key $id"; cat "$tmp/sign.log"
      fi
    done
  fi
done

echo "p11_tool ($card): $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 10 ]
