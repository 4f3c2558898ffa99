#!/usr/bin/env bash
# NSS on the module: `modutil -add` into a fresh sql: database, then
# `certutil -L -h all` lists the card's certificates (authentication and
# signature, the issuing CA's) under the token's name
# (each, exported by NSS, equals the card's file),
# `certutil -K -h all` with a password file (the PIN) lists the two private
# keys paired with their certificates (same CKA_ID/CKA_LABEL: no orphan),
# and NSS signs a certificate request with each card key (OpenSSL verifies
# it against the certificate's key).
#   nss.sh MODULE [ec|rsa]      (under with-pcscd --virtual)
. "$(dirname "$0")/common.sh"
need modutil certutil openssl

db=sql:$T/nssdb
mkdir -p "$T/nssdb"
certutil -N -d "$db" --empty-password || { fail "certutil -N"; finish; }
printf '%s\n' "$PIN" >"$T/pin.txt"
chmod 600 "$T/pin.txt"

o=$(client modutil -dbdir "$db" -add cnie -libfile "$MODULE" -force 2>&1); rc=$?
echo "$o" | sed 's/^/  | /'
[ "$rc" = 0 ] && ok "modutil -add" || { fail "modutil -add exited $rc"; finish; }
o=$(client modutil -dbdir "$db" -list cnie 2>&1); rc=$?
echo "$o" | sed 's/^/  | /'
token=$(sed -n 's/^[ \t]*Token Name:[ \t]*//p' <<<"$o" | sed 's/[ \t]*$//' | grep -v '^$' | head -n1)
[ -n "$token" ] && ok "modutil -list shows the token '$token'" || fail "modutil -list shows no token"
grep -qi "$CARD_SERIAL" <<<"$o" && ok "token serial $CARD_SERIAL" || fail "modutil -list does not show the serial $CARD_SERIAL"

o=$(client certutil -d "$db" -L -h all 2>&1); rc=$?
echo "$o" | sed 's/^/  | /'
[ "$rc" = 0 ] && ok "certutil -L -h all" || fail "certutil -L -h all exited $rc"
# Nicknames: "TOKEN:LABEL" padded, then the trust column.
nicks=$(grep "^$token:" <<<"$o" | sed 's/[ \t]*[a-zA-Z]*,[a-zA-Z]*,[a-zA-Z]*[ \t]*$//')
n=$(grep -c . <<<"$nicks")
[ "$n" = 3 ] && ok "$n certificates on the token" || fail "$n certificates of token '$token' (want 3)"
declare -A seen=()
while read -r nick; do
  [ -n "$nick" ] || continue
  client certutil -d "$db" -L -h "$token" -f "$T/pin.txt" -n "$nick" -r >"$T/c.der" 2>/dev/null || { fail "certutil -L -n '$nick' -r"; continue; }
  m=
  for r in auth:4331 sign:4332 ca:4333; do
    cmp -s "$T/c.der" "$CARDDIR/files/3F00-A001-${r#*:}" && m=${r%%:*}
  done
  if [ -n "$m" ]; then seen[$m]=$nick; ok "'$nick' is the card's $m certificate"; else fail "'$nick' is not a card certificate"; fi
done <<<"$nicks"
[ -n "${seen[auth]:-}" ] && [ -n "${seen[sign]:-}" ] || fail "certificates found: ${!seen[*]} (want auth sign ca)"
ca_note "${seen[ca]:-}"

o=$(client certutil -d "$db" -K -h all -f "$T/pin.txt" 2>&1); rc=$?
echo "$o" | sed 's/^/  | /'
[ "$rc" = 0 ] && ok "certutil -K -h all" || fail "certutil -K -h all exited $rc"
case $CARD in ec) kt=ec ;; *) kt=rsa ;; esac
nk=$(grep -c "^<[ 0-9]*> $kt " <<<"$o")
[ "$nk" = 2 ] && ok "2 $kt private keys" || fail "$nk $kt private keys listed (want 2)"
grep -q '(orphan)' <<<"$o" && fail "a private key without its certificate (orphan): CKA_ID/CKA_LABEL pairing"
for r in auth sign; do
  [ -n "${seen[$r]:-}" ] || continue
  # certutil -K names a key by its CKA_LABEL: the certificate's label when
  # the pair shares it.
  lbl=${seen[$r]#"$token":}
  grep -Eq "^<[ 0-9]*> [a-z]+ +[0-9a-f]+ +($token:)?$(sed 's/[][\.*^$()+?{}|]/\\&/g' <<<"$lbl")\$" <<<"$o" &&
    ok "the $r key is paired with '${seen[$r]}'" || fail "no private key labelled like '${seen[$r]}' (certutil -K)"
done

# A real signature through NSS: a certificate request signed with each
# card key (NSS's PK11_Sign; the key chosen by its CKA_ID as certutil -K
# shows it), verified by OpenSSL, holding the card certificate's key.
for r in auth sign; do
  [ -n "${seen[$r]:-}" ] || continue
  lbl=${seen[$r]#"$token":}
  kid=
  while IFS= read -r kl; do
    if [[ $kl =~ ^\<[\ 0-9]*\>\ +[a-z]+\ +([0-9a-f]+)\ +(.*)$ ]] &&
       [ "${BASH_REMATCH[2]#"$token":}" = "$lbl" ]; then
      kid=${BASH_REMATCH[1]}; break
    fi
  done <<<"$o"
  [ -n "$kid" ] || { fail "no key id for '$lbl' in certutil -K"; continue; }
  rm -f "$T/req.der"
  e=$(client certutil -R -d "$db" -h "$token" -f "$T/pin.txt" -k "$kid" -s "CN=cnie nss test" \
    -Z SHA256 -o "$T/req.der" </dev/null 2>&1); rc=$?
  if [ "$rc" != 0 ] || [ ! -s "$T/req.der" ]; then
    echo "$e" | sed 's/^/  | /'; fail "$r: certutil -R -k $kid (exit $rc)"; continue
  fi
  if openssl req -inform DER -in "$T/req.der" -verify -noout >/dev/null 2>&1 &&
     [ "$(openssl req -inform DER -in "$T/req.der" -noout -pubkey | openssl pkey -pubin -outform DER | od -An -v -tx1 | tr -d ' \n')" = "$(pubkey_hex "$T/$r.pem")" ]; then
    ok "$r: NSS signed a request with the card key; OpenSSL verifies it; its key is the certificate's"
  else
    fail "$r: the request NSS signed does not verify or holds another key"
  fi
done
finish
