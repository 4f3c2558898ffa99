# shellcheck shell=bash
# The locales the l10n tests run cnie-tool in, without root and without
# touching the system: ar_MA.UTF-8 and fr_FR.UTF-8 built with localedef into
# BUILD/l10n/locales (LOCPATH), and the build tree's catalogues
# (CNIE_LOCALEDIR_OVERRIDE, BUILD/locale).  Sourced after tests/harness/skip.sh.
# usage: cnie_l10n_locales BUILD_DIR
cnie_l10n_locales() {
  local build=$1 l loc locales="$1/l10n/locales"
  for l in ar fr; do
    [ -f "$build/locale/$l/LC_MESSAGES/cnie.mo" ] || { echo "FAIL: $l catalogue not built"; exit 1; }
  done
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
}
