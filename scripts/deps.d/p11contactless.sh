# shellcheck shell=bash
# The contactless PKCS#11 tests (tests/p11clients/pykcs11_contactless.py):
# PyKCS11, the Python PKCS#11 wrapper, as a client of cnie-pkcs11.so.
CNIE_RUNTIME_PACKAGES+=(python3-pykcs11)
