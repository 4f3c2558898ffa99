#!/usr/bin/env bash
# l10n.pot-current and l10n.catalogues: po/cnie.pot holds exactly the
# strings the sources mark today (po/make-pot.sh, compared without the
# creation date), and every catalogue of po/LINGUAS translates every one of
# them (msgcmp: an untranslated or fuzzy entry counts as missing), with
# format strings that agree (msgfmt --check), and no obsolete leftovers.
# translated: the same for a fresh extraction of the sources (see below).
# Usage: check-catalogues.sh SOURCE_DIR pot|catalogues|translated
set -euo pipefail
src=$1
what=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
case "$what" in
  pot)
    "$src/po/make-pot.sh" "$src" "$tmp/cnie.pot" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    if ! diff -u "$src/po/cnie.pot" "$tmp/cnie.pot"; then
      echo "FAIL: po/cnie.pot is out of date: cmake --build BUILD --target cnie-pot," \
        "then --target cnie-update-po, translate, and commit po/"
      exit 1
    fi
    n=$(grep -c '^msgid ' "$src/po/cnie.pot")
    [ "$n" -gt 100 ] || { echo "FAIL: only $n messages in po/cnie.pot"; exit 1; }
    echo "ok: po/cnie.pot current ($((n - 1)) messages)"
    ;;
  catalogues)
    mapfile -t langs < <(grep '^[a-z]' "$src/po/LINGUAS")
    [ "${#langs[@]}" -ge 2 ] || { echo "FAIL: po/LINGUAS lists ${#langs[@]} languages"; exit 1; }
    for l in "${langs[@]}"; do
      po="$src/po/$l.po"
      if ! msgcmp "$po" "$src/po/cnie.pot" 2>"$tmp/cmp"; then
        echo "FAIL: po/$l.po does not translate every message of po/cnie.pot:"
        cat "$tmp/cmp"
        fail=1
      fi
      if ! msgfmt --check --statistics -o /dev/null "$po" 2>"$tmp/fmt"; then
        echo "FAIL: msgfmt --check po/$l.po:"
        fail=1
      fi
      cat "$tmp/fmt"
      if grep -q '^#~' "$po"; then
        echo "FAIL: po/$l.po keeps obsolete entries (#~): remove them"
        fail=1
      fi
      if [ -n "$(msgattrib --only-fuzzy --no-obsolete "$po")" ]; then
        echo "FAIL: po/$l.po has fuzzy entries"
        fail=1
      fi
      grep -q "^\"Language: $l\\\\n\"" "$po" || { echo "FAIL: po/$l.po: no Language: $l"; fail=1; }
    done
    [ "$fail" = 0 ] && echo "ok: ${langs[*]} translate every message"
    exit "$fail"
    ;;
  translated)
    # What the sources mark today (a fresh extraction, not the committed
    # po/cnie.pot) merged into each catalogue: msgfmt --statistics must count
    # 0 untranslated and 0 fuzzy, and every missing message is named with its
    # source file, so a new _() without its Arabic and French fails here even
    # before po/cnie.pot is regenerated.
    "$src/po/make-pot.sh" "$src" "$tmp/fresh.pot" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
    mapfile -t langs < <(grep '^[a-z]' "$src/po/LINGUAS")
    for l in "${langs[@]}"; do
      msgmerge --quiet --no-fuzzy-matching -o "$tmp/$l.po" "$src/po/$l.po" "$tmp/fresh.pot"
      stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$tmp/$l.po" 2>&1)
      echo "po/$l.po against the sources: $stats"
      if [[ $stats == *untranslated* || $stats == *fuzzy* ]]; then
        echo "FAIL: po/$l.po does not translate these messages of the sources:"
        for sel in --untranslated --only-fuzzy; do
          # Each entry without the header block and the empty translations.
          msgattrib "$sel" --no-obsolete "$tmp/$l.po" | awk 'hdr == 0 { if ($0 == "") hdr = 1; next }
            /^msgstr/ { s = 1; next } $0 == "" { s = 0 } s == 0 { print }' || true
        done
        fail=1
      fi
    done
    [ "$fail" = 0 ] && echo "ok: ${langs[*]} translate every message the sources mark"
    exit "$fail"
    ;;
  *) echo "usage: check-catalogues.sh SOURCE_DIR pot|catalogues|translated" >&2; exit 2 ;;
esac
