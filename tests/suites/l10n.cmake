# Localisation (po/, cmake/CnieGettext.cmake; tests/l10n):
# l10n.pot-current  po/cnie.pot holds exactly the strings the sources mark
#                   (po/make-pot.sh; refresh: --target cnie-pot, cnie-update-po)
# l10n.catalogues   po/ar.po and po/fr.po translate all of them: no
#                   untranslated, fuzzy or obsolete entry, format strings agree
# l10n.translated   every message the sources mark today (a fresh extraction,
#                   not the committed cnie.pot) is translated in ar and fr:
#                   msgfmt --statistics counts 0 untranslated, 0 fuzzy; the
#                   missing ones are named with their source file
# l10n.cnie-tool    cnie-tool under LANG=ar_MA.UTF-8, fr_FR.UTF-8 and C on the
#                   reference card: translated output and errors of every
#                   command (usage, readers, info, identity, certs, pin, sign,
#                   verify, doctor, bridge, register, verify-token),
#                   untranslated --json with the shared codes (locales built
#                   by the test with localedef, tests/l10n/locales.sh)
# The demo portal in the three languages: browser.l10n (tests/suites/browser.cmake).
add_test(NAME l10n.pot-current
  COMMAND ${PROJECT_SOURCE_DIR}/tests/l10n/check-catalogues.sh ${PROJECT_SOURCE_DIR} pot)
add_test(NAME l10n.catalogues
  COMMAND ${PROJECT_SOURCE_DIR}/tests/l10n/check-catalogues.sh ${PROJECT_SOURCE_DIR} catalogues)
add_test(NAME l10n.translated
  COMMAND ${PROJECT_SOURCE_DIR}/tests/l10n/check-catalogues.sh ${PROJECT_SOURCE_DIR} translated)
set_tests_properties(l10n.translated PROPERTIES LABELS "l10n;unit" TIMEOUT 120)
add_test(NAME l10n.cnie-tool
  COMMAND ${PROJECT_SOURCE_DIR}/tests/l10n/cnie-tool.sh ${PROJECT_BINARY_DIR})
set_tests_properties(l10n.pot-current l10n.catalogues PROPERTIES LABELS "l10n;unit" TIMEOUT 120)
set_tests_properties(l10n.cnie-tool PROPERTIES LABELS "l10n;integration" TIMEOUT 300
  SKIP_RETURN_CODE 77)

# The CLI messages of issue 15: cnie-sim insert with a relative or wrong
# card directory (tests/l10n/cnie-sim-insert.sh).
add_test(NAME messages.cnie-sim-insert
  COMMAND ${PROJECT_SOURCE_DIR}/tests/l10n/cnie-sim-insert.sh ${PROJECT_BINARY_DIR})
set_tests_properties(messages.cnie-sim-insert PROPERTIES LABELS "unit" TIMEOUT 60)
