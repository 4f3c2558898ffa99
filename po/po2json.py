#!/usr/bin/env python3
"""A compiled gettext catalogue (.mo, from msgfmt) as JSON for the browser.

Usage: po2json.py LANG IN.mo OUT.json

Output: {"language": LANG, "messages": {msgid: msgstr, ...}} with the
singular messages of the catalogue (the browser side has no plurals: its
texts are written without them).  The build runs it on the .mo that msgfmt
--check made from po/LANG.po, so the JSON never holds a fuzzy or untranslated
entry and there is no second copy of the translations to maintain.
"""
import gettext
import json
import os
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: po2json.py LANG IN.mo OUT.json")
    lang, mo, out = sys.argv[1:]
    with open(mo, "rb") as f:
        cat = gettext.GNUTranslations(f)
    messages = {}
    # _catalog: the parsed .mo, msgid -> msgstr ("" is the header; plural
    # entries are keyed by (msgid, n)).
    for k, v in cat._catalog.items():  # pylint: disable=protected-access
        if isinstance(k, str) and k and "\x04" not in k:
            messages[k] = v
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"language": lang, "messages": messages}, f, ensure_ascii=False,
                  indent=0, sort_keys=True)
        f.write("\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
