# shellcheck shell=bash
# PKCS#11 client tests (tests/p11clients) and bench/run.d/pkcs11.sh: the
# clients that load cnie-pkcs11.so.  gnutls-bin: p11tool; libengine-
# pkcs11-openssl: OpenSSL's pkcs11 engine; openssh-*: ssh-keygen -D, ssh -I
# and a private sshd; libnss3-tools: modutil, certutil; p11-kit:
# p11-kit list-modules and p11-kit-proxy; opensc: pkcs11-tool (object ids,
# certificate export) and OpenSC's module for the comparison bench.
CNIE_RUNTIME_PACKAGES+=(
  gnutls-bin libengine-pkcs11-openssl openssh-client openssh-server
  libnss3-tools p11-kit opensc python3
)
