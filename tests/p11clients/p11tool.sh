#!/usr/bin/env bash
# GnuTLS p11tool on the module: --list-all --login shows the card's
# certificates (authentication, signature and the issuing CA's, flagged
# CKA_CERTIFICATE_CATEGORY=CA) and its two private keys (with their public keys), each
# certificate's value equals the card's file, and --test-sign passes with
# each private key (the signature key needs the PIN again before each
# signature: CKA_ALWAYS_AUTHENTICATE).  The PIN comes from GNUTLS_PIN.
#   p11tool.sh MODULE [ec|rsa]      (under with-pcscd --virtual)
. "$(dirname "$0")/common.sh"
need p11tool openssl

export GNUTLS_PIN=$PIN
# Only our module: p11-kit's configured modules stay out of the way.
p11() { client p11tool --provider "$MODULE" "$@"; }

out=$(p11 --list-all --login 2>&1); rc=$?
echo "$out" | sed 's/^/  | /'
[ "$rc" = 0 ] && ok "p11tool --list-all --login exits 0" || fail "p11tool --list-all --login exited $rc"
ncert=$(grep -c 'Type: X.509 Certificate' <<<"$out")
npriv=$(grep -c 'Type: Private key' <<<"$out")
[ "$ncert" = 3 ] && ok "$ncert certificates listed" || fail "$ncert certificates listed (want 3: authentication, signature, CA)"
nca=$(grep -c 'CKA_CERTIFICATE_CATEGORY=CA' <<<"$out")
[ "$nca" = 1 ] && ok "one certificate flagged CKA_CERTIFICATE_CATEGORY=CA" || fail "$nca certificates flagged CKA_CERTIFICATE_CATEGORY=CA (want 1)"
[ "$npriv" = 2 ] && ok "2 private keys listed" || fail "$npriv private keys listed (want 2)"
case $CARD in ec) kt='EC/ECDSA' ;; *) kt='RSA' ;; esac
nkt=$(grep -c "Type: Private key ($kt" <<<"$out")
[ "$nkt" = 2 ] && ok "private keys are $kt" || fail "private keys: $nkt of type $kt (want 2)"

# Before login the private keys stay hidden (CKA_PRIVATE), the rest shows.
out0=$(p11 --list-all 2>&1)
n0=$(grep -c 'Type: Private key' <<<"$out0")
c0=$(grep -c 'Type: X.509 Certificate' <<<"$out0")
[ "$n0" = 0 ] && [ "$c0" = "$ncert" ] && ok "without login: $c0 certificates, no private key" ||
  fail "without login: $c0 certificates, $n0 private keys (want $ncert, 0)"

# Each certificate exported through the module is one of the card's files.
certs=$(p11 --list-all-certs 2>/dev/null | sed -n 's/^Object [0-9]*:[ \t]*//p; s/^[ \t]*URL: //p')
declare -A seen=()
while read -r url; do
  [ -n "$url" ] || continue
  p11 --export "$url" --outder --outfile "$T/exp.der" >/dev/null 2>&1 || { fail "p11tool --export $url"; continue; }
  m=
  for r in auth:4331 sign:4332 ca:4333; do
    cmp -s "$T/exp.der" "$CARDDIR/files/3F00-A001-${r#*:}" && m=${r%%:*}
  done
  if [ -n "$m" ]; then seen[$m]=$url; else fail "exported certificate $url is not on the card"; fi
done <<<"$certs"
[ -n "${seen[auth]:-}" ] && [ -n "${seen[sign]:-}" ] && ok "exported certificates equal the card's files: ${!seen[*]}" ||
  fail "certificates matched: ${!seen[*]} (want auth sign ca)"
ca_note "${seen[ca]:-}"

# Private keys: their URLs, then a test signature with each.
keys=$(p11 --list-privkeys --login 2>/dev/null | sed -n 's/^[ \t]*URL: //p')
nk=0
while read -r url; do
  [ -n "$url" ] || continue
  nk=$((nk + 1))
  o=$(p11 --login --test-sign "$url" 2>&1); rc=$?
  echo "$o" | sed 's/^/  | /'
  if [ "$rc" = 0 ] && grep -q 'Verifying against public key in the token... ok' <<<"$o"; then
    ok "--test-sign $url"
  else
    fail "--test-sign $url (exit $rc)"
  fi
  # The key's public half (as the token gives it) is the certificate's.
  id=$(sed -n 's/.*;id=\([^;]*\).*/\1/p' <<<"$url")
  pub=$(p11 --export-pubkey "$url" --login 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
  match=
  for r in auth sign; do [ -n "$pub" ] && [ "$pub" = "$(pubkey_hex "$T/$r.pem")" ] && match=$r; done
  [ -n "$match" ] && ok "key id=$id: public key is the $match certificate's" ||
    fail "key id=$id: public key matches no certificate of the card"
done <<<"$keys"
[ "$nk" = 2 ] && ok "2 private key URLs" || fail "$nk private key URLs (want 2)"
finish
