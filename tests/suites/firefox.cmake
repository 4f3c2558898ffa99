# Debian's firefox-esr, headless, on a fresh profile after `cnie-tool
# register`: Firefox reads the card through the module, TLS client
# authentication with the card through the profile's database (tstclnt
# against openssl s_server), and the bridge trusted after `bridge trust`
# (tests/browser/firefox_nss.sh).  Only in builds without sanitizers: Firefox
# cannot load an instrumented module (the sanitizer runtime would have to be
# preloaded into the browser); the normal pass of CI runs it.
if(NOT CNIE_SANITIZE)
cnie_integration(browser_firefox_nss ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${CMAKE_CURRENT_SOURCE_DIR}/browser/firefox_nss.sh ${PROJECT_BINARY_DIR}
  $<TARGET_FILE:cnie-tool> $<TARGET_FILE:cnie-pkcs11> $<TARGET_FILE:cnied>
  $<TARGET_FILE:cnie-sim>)
set_tests_properties(integration.browser_firefox_nss PROPERTIES
  LABELS "browser;integration" TIMEOUT 600)
# One card (reader 0): every NSS client below reads one token, not two.
set_property(TEST integration.browser_firefox_nss APPEND PROPERTY ENVIRONMENT
  "CNIE_VIRTUAL_CARDS=ec - -")
endif()
