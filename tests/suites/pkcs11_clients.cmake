# Real PKCS#11 clients on cnie-pkcs11.so through a private pcscd and the
# virtual contact reader (tests/p11clients/*.sh): GnuTLS p11tool, OpenSSL
# with libp11's engine, OpenSSH (ssh-keygen -D and a login to a private
# sshd; also with the PIN typed on the PIN-pad reader), NSS (modutil,
# certutil -L/-K, a request signed by NSS), each on the EC and the RSA card,
# and p11-kit (and p11-kit-proxy users) finding the module installed in a
# scratch prefix.
# A client that is not installed makes its test skip (exit 77), and fail
# under CI=true (tests/harness/skip.sh); the packages are in
# scripts/deps.d/p11clients.sh.
set(_p11c ${CMAKE_CURRENT_SOURCE_DIR}/p11clients)
foreach(card ec rsa)
  foreach(client p11tool openssl_engine ssh nss)
    cnie_integration(p11clients.${client}.${card}
      ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
      ${_p11c}/${client}.sh $<TARGET_FILE:cnie-pkcs11> ${card})
  endforeach()
endforeach()
# The PIN typed on the PIN-pad reader (CKF_PROTECTED_AUTHENTICATION_PATH).
cnie_integration(p11clients.ssh.ec-pinpad
  ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${_p11c}/ssh.sh $<TARGET_FILE:cnie-pkcs11> ec-pinpad)
cnie_integration(p11clients.p11kit
  ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${_p11c}/p11kit.sh $<TARGET_FILE:cnie-pkcs11> ec ${CMAKE_COMMAND} ${PROJECT_BINARY_DIR})
unset(_p11c)
