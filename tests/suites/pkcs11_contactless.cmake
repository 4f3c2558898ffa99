# The PKCS#11 module with the card on the virtual contactless reader
# (pkcs11/README.md "Contactless", issue 18): pkcs11-tool and PyKCS11 log in
# and sign with the CAN from the scripted pinentry (CNIE_PINENTRY), cancel
# and wrong-CAN paths counted in pcscd's APDU log, sessions ended by another
# client's plain APDU or reset; NSS does TLS client authentication with it.
set(_p11cl ${PROJECT_SOURCE_DIR}/tests)
foreach(card ec rsa)
  cnie_integration(p11_contactless_${card}
    ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --apdu-log --
    ${_p11cl}/integration/p11_contactless.sh $<TARGET_FILE:cnie-pkcs11> ${card})
endforeach()
unset(_p11cl)
# NSS: the token without a dialog at load, TLS client authentication with the
# contactless card (tests/browser/tls_client_auth.sh, shared with the Firefox
# check in browser.firefox_nss).
cnie_integration(p11clients.nss_contactless.ec
  ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --apdu-log --
  ${PROJECT_SOURCE_DIR}/tests/p11clients/nss_contactless.sh $<TARGET_FILE:cnie-pkcs11> ec)
# The CAN dialog and the kept CAN without a card (pkcs11/p11_pace.c).
cnie_unit(p11_pace)
target_link_libraries(test_p11_pace PRIVATE cnie_p11_obj)
target_include_directories(test_p11_pace PRIVATE ${PROJECT_SOURCE_DIR}/pkcs11)
target_compile_definitions(test_p11_pace PRIVATE
  PINENTRY_SCRIPT="${PROJECT_SOURCE_DIR}/tests/harness/pinentry-script")
