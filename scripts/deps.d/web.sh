# shellcheck shell=bash
# The demo portal (web/demo/server.py: python3, openssl) and its browser
# test (tests/browser: Debian chromium driven by playwright-core from npm,
# with axe-core (accessibility audit) and typescript (type check of web/'s
# declarations) from npm, all pinned in tests/browser/package-lock.json;
# certutil to trust the local CAs in the test browser's NSS database).
CNIE_RUNTIME_PACKAGES+=(chromium nodejs libnss3-tools python3 openssl)
# Debian's npm package conflicts with a NodeSource nodejs, which carries its
# own npm: ask for the package only when there is no npm at all.
command -v npm >/dev/null 2>&1 || CNIE_RUNTIME_PACKAGES+=(npm)
