#!/usr/bin/env bash
# cnie-tool verify-token against a token signed, as the card does, with the
# reference card's authentication key (build/cards/ec/keys/auth.pem) and its
# certificate (EF 3F00-A001-4331) under the test citizen CA: valid accepted,
# then each rejection with its reason and exit code.
# Usage: verify-token-cli.sh BUILD_DIR
set -euo pipefail
build=$1
tool="$build/tools/cnie-tool/cnie-tool"
card="$build/cards/ec"
ca="$build/cards/pki/citizen-ca.pem"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
origin=https://127.0.0.1:8443
nonce=$(python3 -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')

python3 - "$card" "$origin" "$nonce" "$tmp/token.json" <<'PY'
import base64, hashlib, json, subprocess, sys
card, origin, nonce, out = sys.argv[1:]
data = hashlib.sha256(origin.encode()).digest() + hashlib.sha256(nonce.encode()).digest()
der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{card}/keys/auth.pem"],
                     input=data, capture_output=True, check=True).stdout
# DER ECDSA-Sig-Value to raw r||s (P-256), as the card answers.
i = 2
vals = []
for _ in range(2):
    assert der[i] == 2
    n = der[i + 1]
    vals.append(int.from_bytes(der[i + 2:i + 2 + n], "big"))
    i += 2 + n
raw = b"".join(v.to_bytes(32, "big") for v in vals)
cert = open(f"{card}/files/3F00-A001-4331", "rb").read()
json.dump({"unverifiedCertificate": base64.b64encode(cert).decode(), "algorithm": "ES256",
           "signature": base64.b64encode(raw).decode(), "format": "web-eid:1.0",
           "appVersion": "https://github.com/cnie/cnie-middleware/releases/tag/v0.1.0"}, open(out, "w"))
PY

fail=0
expect() { # NAME WANT_EXIT WANT_REASON ARGS...
  local name=$1 want_rc=$2 want=$3 out rc
  shift 3
  set +e
  out=$("$tool" verify-token --json "$@" 2>&1)
  rc=$?
  set -e
  if [ "$rc" = "$want_rc" ] && grep -q "\"reason\": \"$want\"" <<<"$out"; then
    echo "PASS $name ($want, exit $rc)"
  else
    echo "FAIL $name: want $want exit $want_rc, got exit $rc: $out"
    fail=1
  fi
}
expect valid 0 ok --origin "$origin" --nonce "$nonce" --ca "$ca" --token "$tmp/token.json"
expect valid-stdin 0 ok --origin "$origin" --nonce "$nonce" --ca "$build/cards/pki" < "$tmp/token.json"
expect wrong-origin 1 origin-or-signature-mismatch --origin https://127.0.0.1:8444 --nonce "$nonce" --ca "$ca" --token "$tmp/token.json"
other=$(python3 -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')
expect wrong-nonce 1 origin-or-signature-mismatch --origin "$origin" --nonce "$other" --ca "$ca" --token "$tmp/token.json"
expect expired-nonce 1 nonce-expired --origin "$origin" --nonce "$nonce" --issued-at $(( $(date +%s) - 301 )) --max-age 300 --ca "$ca" --token "$tmp/token.json"
expect untrusted-ca 1 certificate-untrusted --origin "$origin" --nonce "$nonce" --ca "$build/cards/pki/csca.pem" --token "$tmp/token.json"
# The reference card's certificates end 2031-06-29.
expect expired-certificate 1 certificate-expired --origin "$origin" --nonce "$nonce" --time 2000000000 --ca "$ca" --token "$tmp/token.json"
sed 's/web-eid:1.0/web-eid:9/' "$tmp/token.json" > "$tmp/bad.json"
expect bad-format 1 format --origin "$origin" --nonce "$nonce" --ca "$ca" --token "$tmp/bad.json"
set +e
"$tool" verify-token --origin http://127.0.0.1 --nonce "$nonce" --ca "$ca" --token "$tmp/token.json" >/dev/null 2>&1
rc=$?
set -e
if [ "$rc" = 2 ]; then echo "PASS http origin refused as usage (exit 2)"; else echo "FAIL http origin: exit $rc"; fail=1; fi
exit "$fail"
