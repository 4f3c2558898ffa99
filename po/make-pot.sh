#!/usr/bin/env bash
# Extracts the translatable strings of the files in po/POTFILES into OUT
# (po/cnie.pot when run by `cmake --build BUILD --target cnie-pot`; a
# temporary file in the l10n.pot-current test, which compares).  Locations
# are file names only (no line numbers), so that the template changes only
# when a message does.
# Usage: make-pot.sh SOURCE_DIR OUT
set -euo pipefail
src=$1
out=$2
mapfile -t files < <(grep -v '^[[:space:]]*\(#\|$\)' "$src/po/POTFILES")
c=() js=()
for f in "${files[@]}"; do
  case "$f" in
    *.c|*.h) c+=("$f") ;;
    *.js|*.mjs) js+=("$f") ;;
    *) echo "make-pot.sh: $f: no extraction rule" >&2; exit 1 ;;
  esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--from-code=UTF-8 --add-comments=TRANSLATORS: --add-location=file --sort-by-file
  --package-name=cnie --msgid-bugs-address="see README.md" --copyright-holder="the CNIE middleware authors")
cd "$src"
xgettext "${common[@]}" --language=C --keyword=_ --keyword=N_ --keyword=ngettext:1,2 \
  -o "$tmp/c.pot" "${c[@]}"
xgettext "${common[@]}" --language=JavaScript --keyword= --keyword=N_ \
  -o "$tmp/js.pot" "${js[@]}"
msgcat --use-first --sort-by-file -o "$tmp/all.pot" "$tmp/c.pot" "$tmp/js.pot"
# The creation date would make every run differ.
sed -e '/^"POT-Creation-Date:/d' "$tmp/all.pot" > "$out"
