# Debian packages (scripts/package) and their check in a clean Debian 12
# root (tests/package/deb_check.sh): debhelper, lintian, debootstrap.
# The browser check (tests/browser/firefox_nss.sh): firefox-esr and the NSS
# tools (certutil, modutil, tstclnt).
# shellcheck shell=bash
CNIE_BUILD_PACKAGES+=(debhelper dpkg-dev fakeroot lintian)
CNIE_RUNTIME_PACKAGES+=(debootstrap firefox-esr libnss3-tools)
