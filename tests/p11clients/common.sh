# shellcheck shell=bash
# Shared by the PKCS#11 client tests (tests/p11clients/*.sh), which run
# under tests/harness/with-pcscd --virtual --hide-usb with the module as
# their first argument and the card ("ec" or "rsa") as their second.
#
# Sets: MODULE (absolute path), CARD, READER, T (scratch directory, removed
# at exit), CARDDIR (a copy of $CNIE_BUILD_DIR/cards/$CARD in reader 0, or
# in the PIN-pad reader 2 when the card is given as CARD-pinpad; the other
# reader emptied so that clients see exactly one token), SIM (cnie-sim), PIN,
# XDG_CACHE_HOME (empty, under $T), and the card's certificates as PEM:
# $T/auth.pem, $T/sign.pem, $T/ca.pem (from the card's files, not through
# the module: what the module returns is compared with them).
# Functions: ok, fail, skip, need, client (runs a client with the
# sanitizer runtime preloaded when the module is an ASan build), on_exit.
set -u

P11C_FAILS=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; P11C_FAILS=$((P11C_FAILS + 1)); }
# A client that is not installed: a visible skip outside CI, a failure
# under CI=true (tests/harness/skip.sh).
# shellcheck source=tests/harness/skip.sh
. "$(dirname "${BASH_SOURCE[0]}")/../harness/skip.sh"
skip() { cnie_skip "$*"; }
need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    command -v "$c" >/dev/null 2>&1 || skip "$c not installed (scripts/deps.d/p11clients.sh lists its package)"
  done
}
# finish: the test's exit status from the failures counted.
finish() {
  if [ "$P11C_FAILS" = 0 ]; then
    echo "PASS: $P11C_NAME"
    exit 0
  fi
  echo "FAILED: $P11C_NAME ($P11C_FAILS checks)"
  exit 1
}

P11C_EXIT_HOOKS=()
on_exit() { P11C_EXIT_HOOKS+=("$*"); }
p11c_cleanup() {
  local rc=$? h
  for h in "${P11C_EXIT_HOOKS[@]}"; do eval "$h" || true; done
  [ -n "${P11C_KEEP:-}" ] || rm -rf -- "$T"
  exit "$rc"
}

[ $# -ge 1 ] || { echo "usage: $0 MODULE [ec|rsa]" >&2; exit 2; }
P11C_NAME=$(basename "$0" .sh)
MODULE=$(realpath -e -- "$1") || { echo "FAIL: module $1 not found"; exit 1; }
CARD=${2:-ec}
# CARD-pinpad: the card in the PIN-pad reader (2), the contact reader empty.
READER=0
case $CARD in *-pinpad) CARD=${CARD%-pinpad}; READER=2 ;; esac
P11C_NAME="$P11C_NAME(${2:-ec})"
[ -n "${CNIE_BUILD_DIR:-}" ] || { echo "FAIL: CNIE_BUILD_DIR not set"; exit 2; }
[ -n "${CNIE_SIM_BASE:-}" ] || { echo "FAIL: not run under with-pcscd --virtual"; exit 2; }
SIM=$CNIE_BUILD_DIR/drivers/ifd/cnie-sim
PIN=1234

T=$(mktemp -d "${TMPDIR:-/tmp}/p11clients.XXXXXX")
trap p11c_cleanup EXIT
export XDG_CACHE_HOME=$T/cache
mkdir -p "$XDG_CACHE_HOME"

# The sanitizer runtime must come first in a client that is not itself
# built with it; leaks of the clients are not ours to report.
P11C_PRELOAD=$(ldd "$MODULE" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ {printf "%s%s", sep, $3; sep=":"}')
# Real root (not root of a user namespace, as with-pcscd makes for a user):
# only then can sshd switch users and can a part run as nobody.
P11C_REAL_ROOT=0
if [ "$(id -u)" = 0 ] && awk '$1 == 0 && $2 == 0 && $3 == 4294967295 {f = 1} END {exit !f}' /proc/self/uid_map 2>/dev/null; then
  P11C_REAL_ROOT=1
fi
# Every client runs under a timeout: a hang fails its check, not the test.
# CLIENT_ENV: the same as a command prefix (for programs that exec).
CLIENT_ENV=(timeout --foreground 120 env)
[ -z "$P11C_PRELOAD" ] || CLIENT_ENV+=("LD_PRELOAD=$P11C_PRELOAD" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
client() { "${CLIENT_ENV[@]}" "$@"; }

# A copy of the card (tests may change its state) in reader $READER, the
# other card reader empty: clients see exactly one token.
CARDDIR=$T/card-$CARD
cp -a -- "$CNIE_BUILD_DIR/cards/$CARD" "$CARDDIR" || { echo "FAIL: no card $CARD in $CNIE_BUILD_DIR/cards"; exit 2; }
"$SIM" --reader 2 remove >/dev/null || { echo "FAIL: cnie-sim --reader 2 remove"; exit 2; }
"$SIM" --reader 0 remove >/dev/null || { echo "FAIL: cnie-sim --reader 0 remove"; exit 2; }
"$SIM" --reader "$READER" insert "$CARDDIR" >/dev/null || { echo "FAIL: cnie-sim --reader $READER insert $CARDDIR"; exit 2; }
for r in auth:4331 sign:4332 ca:4333; do
  openssl x509 -inform DER -in "$CARDDIR/files/3F00-A001-${r#*:}" -out "$T/${r%%:*}.pem" ||
    { echo "FAIL: card certificate ${r#*:} unreadable"; exit 2; }
done
CARD_SERIAL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$CARDDIR/card.json")
# shellcheck disable=SC2034  # used by the tests
P11C_CARD_SERIAL=$CARD_SERIAL

# pubkey_der FILE.pem: the certificate's SubjectPublicKeyInfo, DER, hex.
pubkey_hex() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | od -An -v -tx1 | tr -d ' \n'; }

# cert_ids: through the module (pkcs11-tool), reads every certificate
# object and sets ID_auth, ID_sign, ID_ca (hex CKA_ID)
# for those whose value equals the card's file byte for byte; fails the
# test for a certificate the card does not hold or a key's one missing.
cert_ids() {
  local list id label f role n=0
  need pkcs11-tool
  ID_auth='' ID_sign='' ID_ca=''
  list=$(client pkcs11-tool --module "$MODULE" --list-objects --type cert 2>&1) ||
    { fail "pkcs11-tool --list-objects --type cert: $list"; return 1; }
  while IFS=$'\t' read -r label id; do
    [ -n "$id" ] || continue
    f=$T/obj-$id.der
    if ! client pkcs11-tool --module "$MODULE" --read-object --type cert --id "$id" -o "$f" >/dev/null 2>&1; then
      fail "cannot read certificate id $id"; continue
    fi
    n=$((n + 1))
    role=
    for r in auth:4331 sign:4332 ca:4333; do
      cmp -s "$f" "$CARDDIR/files/3F00-A001-${r#*:}" && role=${r%%:*}
    done
    if [ -z "$role" ]; then
      fail "certificate id $id ('$label') is not one of the card's"; continue
    fi
    printf -v "ID_$role" '%s' "$id"
  done < <(awk '/^Certificate Object/ {l=""; i=""}
               /^[ \t]+label:/ {sub(/^[ \t]+label:[ \t]+/, ""); l=$0}
               /^[ \t]+ID:/ {i=$2; print l "\t" i}' <<<"$list")
  for role in auth sign; do
    n=ID_$role
    [ -n "${!n}" ] || fail "the card's $role certificate is not among the module's objects"
  done
  ca_note "$ID_ca"
  [ -n "$ID_auth" ] && [ -n "$ID_sign" ]
}

# ca_note NONEMPTY: the issuing CA certificate (a CDF entry without a key)
# must be among the module's objects (matched byte for byte by the caller).
ca_note() {
  if [ -n "$1" ]; then
    ok "the card's CA certificate (EF 4333, no key) is an object, equal to the card's file"
  else
    fail "the card's CA certificate (EF 4333, no key) is not among the module's objects"
  fi
}

# pct ID: a hex CKA_ID as a pkcs11: URI path attribute value.
pct() { sed 's/../%&/g' <<<"$1"; }
