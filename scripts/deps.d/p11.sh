# PKCS#11 module (pkcs11/): p11-kit's pkcs11.h (libp11-kit-dev, also in
# base.sh); tests: OpenSC's pkcs11-tool (opensc) and openssl to verify.
CNIE_BUILD_PACKAGES+=(libp11-kit-dev)
CNIE_RUNTIME_PACKAGES+=(opensc openssl)
