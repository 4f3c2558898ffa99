# shellcheck shell=bash
# Localisation (po/, cmake/CnieGettext.cmake): gettext's xgettext, msgfmt,
# msgmerge and msgcmp at build time (libintl itself is in glibc).  The l10n
# tests build the ar_MA.UTF-8 and fr_FR.UTF-8 locales they run cnie-tool in
# (localedef from the locales package, into the build tree: no root needed),
# and the demo portal's Arabic screenshots need an Arabic font (Noto).
CNIE_BUILD_PACKAGES+=(gettext)
CNIE_RUNTIME_PACKAGES+=(locales fonts-noto-core)
