#!/usr/bin/env bash
# l10n.cnie-tool: cnie-tool speaks the user's language.  Under
# LANG=ar_MA.UTF-8 and LANG=fr_FR.UTF-8 (locales built here with localedef
# into BUILD/l10n/locales, LOCPATH: no root, no system change) it runs on a
# fresh copy of the reference card (in process, no pcscd) and the output and
# errors must be the catalogue's Arabic and French (po/ar.po, po/fr.po,
# compiled by the build into BUILD/locale); in the C locale they stay
# English, and --json stays untranslated in every language.
# Usage: cnie-tool.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/harness/skip.sh
. "$src/tests/harness/skip.sh"
tool="$build/tools/cnie-tool/cnie-tool"
[ -x "$tool" ] || { echo "FAIL: no $tool"; exit 1; }
# shellcheck source=tests/l10n/locales.sh
. "$src/tests/l10n/locales.sh"
cnie_l10n_locales "$build"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL ($case_name): $*"; fails=$((fails + 1)); }
# run LANG EXPECTED_STATUS STDIN ARGS...: output (stdout+stderr) in $tmp/out
run() {
  local lang=$1 want=$2 input=$3 rc=0
  shift 3
  printf '%s' "$input" | LANG=$lang "$tool" "$@" >"$tmp/out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || { cat "$tmp/out"; fail "cnie-tool $* exited $rc, not $want"; }
}
has() { grep -qF -- "$1" "$tmp/out" || { cat "$tmp/out"; fail "output lacks: $1"; }; }
lacks() { ! grep -qF -- "$1" "$tmp/out" || { cat "$tmp/out"; fail "output has: $1"; }; }

card() { rm -rf "$tmp/ec"; cp -r "$build/cards/ec" "$tmp/ec"; }

case_name=ar
card
run ar_MA.UTF-8 0 "" --reference-card "$tmp/ec" info
has "القارئ: reference card"
has "الرقم التسلسلي: 81D8DD304F8A3E96"
has "الرمز السري: 3 محاولات متبقية"
has "رمز PUK: 10 محاولات متبقية"
has "، الرمز السري قبل كل توقيع"
lacks "tries left"
run ar_MA.UTF-8 4 $'9999\n' --reference-card "$tmp/ec" pin verify --pin-stdin
has "قبل العملية: الرمز السري 3 محاولات متبقية، رمز PUK 10 محاولات متبقية"
has "verify: الرمز السري خاطئ، تبقّت محاولتان"
has "بعد العملية: الرمز السري محاولتان متبقيتان"
run ar_MA.UTF-8 0 $'1234\n' --reference-card "$tmp/ec" pin verify --pin-stdin
has "verify: تمّ بنجاح"
run ar_MA.UTF-8 2 "" bogus
has "cnie-tool: أمر غير معروف «bogus» (انظر cnie-tool --help)"
# The PIN dialog cannot start: the message says how to go on (--pin-stdin).
run ar_MA.UTF-8 1 "" --reference-card "$tmp/ec" pin verify --pinentry /nonexistent/pinentry
has "تعذّر فتح نافذة إدخال الرمز"
has "--pin-stdin"

# The identity as a citizen reads it: no ICAO fillers, dates as dates.
run ar_MA.UTF-8 0 $'123456\n' --reference-card "$tmp/ec" identity --can-stdin
has "الاسم العائلي: BENALI"
has "الاسم الشخصي: FATIMA ZAHRA"
has "أسماء أخرى: بنعلي فاطمة الزهراء"
has "تاريخ الازدياد: 15 مارس 1990"
has "مكان الازدياد: RABAT، المغرب"
has "الجنس: أنثى"
has "الجنسية: مغربية"
lacks "<"

case_name=fr
card
run fr_FR.UTF-8 0 $'123456\n' --reference-card "$tmp/ec" identity --can-stdin
has "Nom: BENALI"
has "Prénoms: FATIMA ZAHRA"
has "Date de naissance: 15 mars 1990"
has "Lieu de naissance: RABAT, Maroc"
has "Sexe: Féminin"
has "Valable jusqu'au: 30 juin 2031"
lacks "900315"
run fr_FR.UTF-8 0 "" --reference-card "$tmp/ec" info
has "Lecteur : reference card"
has "Numéro de série : 81D8DD304F8A3E96"
has "Code PIN: 3 essais restants"
has ", code PIN avant chaque signature"
run fr_FR.UTF-8 4 $'9999\n' --reference-card "$tmp/ec" pin verify --pin-stdin
has "Avant : code PIN 3 essais restants, code PUK 10 essais restants"
has "verify : code PIN erroné, 2 essais restants"
run fr_FR.UTF-8 4 $'9999\n' --reference-card "$tmp/ec" pin verify --pin-stdin
has "verify : code PIN erroné, 1 essai restant"
run fr_FR.UTF-8 2 "" bogus
has "cnie-tool : commande « bogus » inconnue (voir cnie-tool --help)"
run fr_FR.UTF-8 1 "" --reference-card "$tmp/ec" pin verify --pinentry /nonexistent/pinentry
has "impossible d'ouvrir la fenêtre de saisie du code"
has "--pin-stdin"

case_name=json
card
# Machine output is never translated.
run ar_MA.UTF-8 0 "" --reference-card "$tmp/ec" --json info
has '"tries_left": 3'
lacks "محاولات"
# The shared error vocabulary (docs/errors.md), untranslated.
run ar_MA.UTF-8 4 $'9999\n' --reference-card "$tmp/ec" --json pin verify --pin-stdin
has '"result": "pin-incorrect"'
has '"name": "CNIE_ERR_PIN_INCORRECT"'

case_name=C
card
run C.UTF-8 0 $'123456\n' --reference-card "$tmp/ec" identity --can-stdin
has "Surname: BENALI"
has "Date of birth: 15 March 1990"
has "Place of birth: RABAT, Morocco"
has "Sex: Female"
lacks "BENALI<<"
run C 4 $'9999\n' --reference-card "$tmp/ec" pin verify --pin-stdin
has "Before: PIN 3 tries left, PUK 10 tries left"
has "verify: wrong PIN, 2 tries left"
run C.UTF-8 2 "" bogus
has "cnie-tool: unknown command \"bogus\" (see cnie-tool --help)"

# ---- The other commands (usage, readers, certs, sign, verify, doctor, bridge,
# register, verify-token): real sentences of po/ar.po and po/fr.po.
export HOME=$tmp/home CNIE_DOCTOR_NO_DEFAULT_PORT=1 CNIE_NO_CACHE=1
unset XDG_STATE_HOME XDG_CONFIG_HOME
mkdir -p "$HOME"
# No pcscd at this socket: the readers' "not running" path, whatever the machine runs.
export PCSCLITE_CSOCK_NAME=$tmp/no-pcscd.sock
echo "document" > "$tmp/doc"

case_name=ar-commands
card
run ar_MA.UTF-8 0 "" --help
has "الاستعمال: cnie-tool [--json]"
has "توقيع ملف أو بصمة بالبطاقة"
has "رمز الخروج: 0 نجاح"
lacks "sign a file"
run ar_MA.UTF-8 3 "" readers
has "pcscd: لا يعمل أو لا يمكن الوصول إليه"
has "قارئات PC/SC:"
has "أجهزة USB CCID:"
run ar_MA.UTF-8 0 "" --reference-card "$tmp/ec" certs --ca "$build/cards/pki/citizen-ca.pem"
has "شهادة المصادقة (المفتاح"
has "شهادة التوقيع (المفتاح"
has "  المفتاح:        EC P-384"
has "  السلسلة:        سليمة"
run ar_MA.UTF-8 2 "" certs --export other
has "cnie-tool: certs: ‏--export يقبل auth أو sign أو all (انظر cnie-tool --help)"
run ar_MA.UTF-8 0 $'1234\n' --reference-card "$tmp/ec" sign --key sign --in "$tmp/doc" \
  --out "$tmp/doc.sig" --pin-stdin
has "وُقِّعت بصمة sha256 للملف $tmp/doc بمفتاح التوقيع (ECDSA)"
run ar_MA.UTF-8 0 "" --reference-card "$tmp/ec" verify --key sign --in "$tmp/doc" --sig "$tmp/doc.sig"
has "التوقيع $tmp/doc.sig: صحيح"
run ar_MA.UTF-8 4 $'9999\n' --reference-card "$tmp/ec" sign --key auth --in "$tmp/doc" \
  --out "$tmp/x.sig" --pin-stdin
has "cnie-tool: الرمز السري خاطئ، تبقّت محاولتان"
run ar_MA.UTF-8 0 "" --reference-card "$tmp/ec" doctor --ca "$build/cards/pki/citizen-ca.pem"
has "[OK  ] تطبيق التوقيع والمصادقة بمفتاحين"
has "[OK  ] شهادة التوقيع مرتبطة بسلسلة سليمة بالجهة المُصدِرة"
has "[WARN] الجسر cnied لا يعمل"
has "       الحل: systemctl --user enable --now cnied.socket"
has "النتيجة: "
lacks "certificate"
run ar_MA.UTF-8 3 "" bridge status --state-dir "$tmp/no-state"
has "الجسر: لا يعمل: cnied لا يعمل (لا يوجد ملف المنفذ $tmp/no-state/cnied.port)"
run ar_MA.UTF-8 1 "" register --module "$tmp/no-such-module.so"
has "cnie-tool: لم يُعثر على وحدة PKCS#11 ‏$tmp/no-such-module.so: ثبّت الحزمة cnie-pkcs11"
run ar_MA.UTF-8 2 "" verify-token --origin https://example.ma
has "verify-token: الخيارات --origin و--nonce و--ca إلزامية"
# No dialog can be shown (no terminal on stdin, no display): say how to go on.
printf '' | env -u DISPLAY -u WAYLAND_DISPLAY LANG=ar_MA.UTF-8 "$tool" --reference-card "$tmp/ec" \
  pin verify --pinentry /nonexistent/pinentry >"$tmp/out" 2>&1 || true
has "cnie-tool: تعذّر فتح نافذة إدخال الرمز «/nonexistent/pinentry»"
# The advice once, and no second error line after it.
[ "$(grep -c -- "--pin-stdin" "$tmp/out")" = 1 ] || { cat "$tmp/out"; fail "the --pin-stdin advice is not given exactly once"; }
lacks "خطأ في الإدخال/الإخراج"

case_name=fr-commands
card
run fr_FR.UTF-8 0 "" --help
has "usage : cnie-tool [--json]"
has "signer un fichier ou une empreinte avec la carte"
has "options générales (avant ou après COMMANDE) :"
run fr_FR.UTF-8 3 "" readers
has "pcscd : non lancé ou injoignable"
has "Lecteurs PC/SC :"
run fr_FR.UTF-8 0 "" --reference-card "$tmp/ec" certs --ca "$build/cards/pki/citizen-ca.pem" \
  --export all --out "$tmp/all.pem"
has "Certificat d'authentification (clé"
has "  validité :  du 2021-06-30T00:00:00Z au 2031-06-29T23:59:59Z"
has "  chaîne :    valide"
has "2 certificats exportés vers $tmp/all.pem"
run fr_FR.UTF-8 1 "" --reference-card "$tmp/ec" certs --ca "$build/cards/pki/csca.pem"
has "  chaîne :    ÉCHEC (unable to get local issuer certificate)"
run fr_FR.UTF-8 0 $'1234\n' --reference-card "$tmp/ec" sign --key auth --in "$tmp/doc" \
  --out "$tmp/doc.sig" --pin-stdin
has "Empreinte sha256 de $tmp/doc signée avec la clé d'authentification (ECDSA) :"
has "octets écrits dans $tmp/doc.sig"
echo "autre" > "$tmp/doc2"
run fr_FR.UTF-8 1 "" --reference-card "$tmp/ec" verify --key auth --in "$tmp/doc2" --sig "$tmp/doc.sig"
has "Signature $tmp/doc.sig : INVALIDE"
run fr_FR.UTF-8 1 "" --reference-card "$tmp/ec" doctor --ca "$build/cards/pki/csca.pem" --no-bridge
has "[FAIL] le certificat de signature ne remonte pas à $build/cards/pki/csca.pem : unable to get local issuer certificate (aucune chaîne vers un certificat de confiance)"
has "       solution : vérifiez que --ca désigne l'AC émettrice de la CNIE"
has "[SKIP] passerelle non vérifiée (--no-bridge)"
has "Bilan : "
run fr_FR.UTF-8 3 "" bridge status --state-dir "$tmp/no-state"
has "passerelle : ARRÊTÉE : cnied n'est pas lancé (pas de fichier de port $tmp/no-state/cnied.port)"
run fr_FR.UTF-8 1 "" unregister
has "cnie-tool : aucune base NSS trouvée (HOME est-il défini ?)"
run fr_FR.UTF-8 0 "" verify-token --help
has "Vérifie un jeton d'authentification Web eID (web-eid:1.0)"
run fr_FR.UTF-8 2 "" readers extra
has "cnie-tool : readers : argument inattendu « extra » (voir cnie-tool --help)"

case_name=json-commands
card
# --json stays English with the shared codes (docs/errors.md), whatever LANG says.
run fr_FR.UTF-8 1 "" --reference-card "$tmp/ec" --json certs --ca "$build/cards/pki/csca.pem"
has '"result": "untrusted"'
has '"name": "CNIE_ERR_UNTRUSTED"'
run ar_MA.UTF-8 1 "" --reference-card "$tmp/ec" --json doctor --ca "$build/cards/pki/csca.pem" --no-bridge
has '"message": "the signature certificate does not chain to'
has '"error": "untrusted"'
lacks "شهادة"
run ar_MA.UTF-8 3 "" --json readers
has '"pcscd": "not running"'
run ar_MA.UTF-8 3 "" --json bridge status --state-dir "$tmp/no-state"
has '"code": "bridge-unreachable"'
has '"error": "cnied is not running (no port file'
run fr_FR.UTF-8 2 "" --json certs --export other
has '"message": "certs: --export auth, sign or all"'
printf '' | env -u DISPLAY -u WAYLAND_DISPLAY LANG=ar_MA.UTF-8 "$tool" --json --reference-card "$tmp/ec" \
  pin verify --pinentry /nonexistent/pinentry >"$tmp/out" 2>/dev/null || true
has '"fix": "give the secret on standard input instead: --pin-stdin (PIN, PUK) or --can-stdin (CAN)'
has '"result": "io-error"'

case_name=C-commands
card
run C.UTF-8 0 "" --reference-card "$tmp/ec" doctor --no-bridge
has "[OK  ] PKI application with 2 keys"
has "[SKIP] the signature certificate's chain is not checked (give --ca FILE|DIR)"
run C.UTF-8 3 "" readers
has "pcscd: not running or not reachable"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "ok: cnie-tool in Arabic, French and English"
