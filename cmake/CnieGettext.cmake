# Localisation with GNU gettext (text domain "cnie"; po/).
#
# English is the source language; po/LINGUAS lists the catalogues
# (po/LANG.po).  At build time each is compiled with msgfmt --check into
# BUILD/locale/LANG/LC_MESSAGES/cnie.mo (installed under
# ${CMAKE_INSTALL_LOCALEDIR}) and turned into BUILD/po/json/LANG.json for the
# browser side (po/po2json.py).  The template po/cnie.pot is regenerated with
# `cmake --build BUILD --target cnie-pot` (po/make-pot.sh), the catalogues
# merged with it with `--target cnie-update-po`; the l10n.* tests
# (tests/suites/l10n.cmake) fail when either is out of date.
# C programs use libintl from glibc: CNIE_LOCALEDIR (compile definition) is
# where the installed catalogues are.
find_program(CNIE_MSGFMT msgfmt REQUIRED)
find_program(CNIE_MSGMERGE msgmerge REQUIRED)
find_program(CNIE_XGETTEXT xgettext REQUIRED)
find_package(Python3 COMPONENTS Interpreter REQUIRED)

set(CNIE_TEXTDOMAIN cnie)
set(CNIE_LOCALE_BUILD_DIR ${PROJECT_BINARY_DIR}/locale)
file(STRINGS ${PROJECT_SOURCE_DIR}/po/LINGUAS CNIE_LINGUAS REGEX "^[a-z]")
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/po/LINGUAS)
