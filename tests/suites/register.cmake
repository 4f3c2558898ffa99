# cnie-tool register/unregister, bridge trust and doctor over the browsers'
# NSS databases in a scratch HOME (tests/tool/register.sh), the module
# loaded by modutil through a private pcscd.
cnie_integration(tool_register ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  ${CMAKE_CURRENT_SOURCE_DIR}/tool/register.sh $<TARGET_FILE:cnie-tool>
  $<TARGET_FILE:cnie-pkcs11>)
