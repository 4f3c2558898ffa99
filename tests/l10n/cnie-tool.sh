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
for l in ar fr; do
  [ -f "$build/locale/$l/LC_MESSAGES/cnie.mo" ] || { echo "FAIL: $l catalogue not built"; exit 1; }
done

locales="$build/l10n/locales"
mkdir -p "$locales"
command -v localedef >/dev/null || cnie_skip "localedef missing (apt-get install locales)"
for loc in ar_MA fr_FR; do
  [ -f "/usr/share/i18n/locales/$loc" ] || cnie_skip "no $loc locale source (apt-get install locales)"
  if [ ! -f "$locales/$loc.UTF-8/LC_CTYPE" ]; then
    localedef -i "$loc" -f UTF-8 "$locales/$loc.UTF-8" ||
      { echo "FAIL: localedef $loc.UTF-8"; exit 1; }
  fi
done
export LOCPATH="$locales" CNIE_LOCALEDIR_OVERRIDE="$build/locale"
unset LC_ALL LC_MESSAGES LANGUAGE

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

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "ok: cnie-tool in Arabic, French and English"
