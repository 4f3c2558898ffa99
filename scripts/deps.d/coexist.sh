# shellcheck shell=bash
# Card sessions shared with other programs (tests/suites/coexist.cmake):
# the long-lived NSS client across a pcscd restart (tests/integration/
# nss_restart.c) builds against NSS; the coexistence and chaos runs drive
# cnied over HTTPS from python3 and verify its tokens with cnie-tool.
CNIE_BUILD_PACKAGES+=(libnss3-dev python3)
