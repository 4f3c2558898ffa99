#!/usr/bin/env bash
# OpenSSL with libp11's engine (libengine-pkcs11-openssl), MODULE_PATH set
# to the module: `pkeyutl -engine pkcs11 -keyform engine -sign` with each
# private key (selected by a pkcs11: URI, id and type=private) and
# `dgst -engine pkcs11 -sign`; every signature verified by OpenSSL alone
# against the certificate the card holds (exported through the module and
# compared with the card's file).  The PIN is in the engine section of a
# private OPENSSL_CONF and typed at libp11's prompt, never on argv.
#   openssl_engine.sh MODULE [ec|rsa]      (under with-pcscd --virtual)
. "$(dirname "$0")/common.sh"
need openssl pkcs11-tool
engdir=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"/\1/p')
[ -e "$engdir/pkcs11.so" ] || skip "libp11 engine not installed ($engdir/pkcs11.so; package libengine-pkcs11-openssl)"

cert_ids || finish
cat >"$T/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engdir/pkcs11.so
MODULE_PATH = $MODULE
PIN = $PIN
init = 0
CNF
export OPENSSL_CONF=$T/openssl.cnf
head -c 1000 /dev/urandom >"$T/data"
# The engine logs in with the PIN of its section.  A key with
# CKA_ALWAYS_AUTHENTICATE needs the PIN again before each signature, which
# libp11 asks on the terminal (its UI; OpenSSL's -passin does not reach
# that prompt): tty_pin runs a command on a pseudo-terminal and types the
# PIN at each "PKCS#11 key PIN" prompt, counting them in $T/prompts.
tty_pin() {
  : >"$T/prompts"
  P11C_TTY_PIN=$PIN P11C_PROMPTS=$T/prompts python3 -c '
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
pin = os.environ["P11C_TTY_PIN"].encode()
buf = b""
out = b""
while True:
    r, _, _ = select.select([fd], [], [], 120)
    if not r:
        os.kill(pid, 9)
        break
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    buf += d
    out += d
    if b"PIN" in buf and buf.rstrip().endswith(b":"):
        with open(os.environ["P11C_PROMPTS"], "a") as f:
            f.write(buf.decode(errors="replace").strip().splitlines()[-1] + "\n")
        os.write(fd, pin + b"\n")
        buf = b""
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st))
' "$@"
}

for role in auth sign; do
  idv=ID_$role
  url="pkcs11:id=$(pct "${!idv}");type=private"
  for md in sha256 sha384; do
    openssl dgst -"$md" -binary -out "$T/hash" "$T/data"
    opts=()
    [ "$CARD" = rsa ] && opts=(-pkeyopt "digest:$md")
    rm -f "$T/sig"
    if o=$(tty_pin "${CLIENT_ENV[@]}" openssl pkeyutl -engine pkcs11 -keyform engine -sign -inkey "$url" \
        "${opts[@]}" -in "$T/hash" -out "$T/sig" 2>&1) && [ -s "$T/sig" ]; then
      ok "$role/$md: pkeyutl -engine pkcs11 -sign ($(stat -c %s "$T/sig") bytes)"
      np=$(grep -c . "$T/prompts")
      want=0; [ "$role" = sign ] && want=1
      sed "s/^/  prompt: /" "$T/prompts"
      [ "$np" = "$want" ] && ok "$role/$md: PIN asked again $np time(s) for the signature" ||
        fail "$role/$md: PIN asked $np time(s) at the signature (want $want: CKA_ALWAYS_AUTHENTICATE only on the signature key)"
    else
      echo "$o" | sed 's/^/  | /'
      fail "$role/$md: pkeyutl -engine pkcs11 -sign with $url"; continue
    fi
    # Verified against the card's certificate, by OpenSSL alone, twice:
    # the hash with pkeyutl, the data with dgst.
    if openssl pkeyutl -verify -certin -inkey "$T/$role.pem" "${opts[@]}" \
        -in "$T/hash" -sigfile "$T/sig" >/dev/null 2>&1; then
      ok "$role/$md: pkeyutl -verify with the card's certificate"
    else
      fail "$role/$md: signature does not verify against the $role certificate"
    fi
    openssl x509 -in "$T/$role.pem" -noout -pubkey >"$T/pub.pem"
    if openssl dgst -"$md" -verify "$T/pub.pem" -signature "$T/sig" "$T/data" >/dev/null 2>&1; then
      ok "$role/$md: dgst -verify"
    else
      fail "$role/$md: dgst -verify fails"
    fi
    # Never the other key's: a signature checks against its own key only.
    other=sign; [ "$role" = sign ] && other=auth
    if openssl pkeyutl -verify -certin -inkey "$T/$other.pem" "${opts[@]}" \
        -in "$T/hash" -sigfile "$T/sig" >/dev/null 2>&1; then
      fail "$role/$md: signature also verifies with the $other certificate"
    fi
  done
  # One-shot hash-and-sign through the engine key.
  rm -f "$T/sig"
  if tty_pin "${CLIENT_ENV[@]}" openssl dgst -sha256 -engine pkcs11 -keyform engine -sign "$url" \
      -out "$T/sig" "$T/data" >"$T/dgst.log" 2>&1 && [ -s "$T/sig" ] &&
     openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig" "$T/data" >/dev/null 2>&1; then
    ok "$role: dgst -engine pkcs11 -sign, verified"
  else
    sed 's/^/  | /' "$T/dgst.log"
    fail "$role: dgst -engine pkcs11 -sign / verify"
  fi
done

# A wrong key URI is an error, not a signature.
if client openssl pkeyutl -engine pkcs11 -keyform engine -sign -inkey "pkcs11:id=%7f%7e;type=private" \
    -in "$T/hash" -out "$T/sig2" >/dev/null 2>&1 && [ -s "$T/sig2" ]; then
  fail "a signature with a key the card does not have"
else
  ok "unknown key id refused"
fi
finish
