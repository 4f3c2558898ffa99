# The PKI application layer (src/libcnie/card.c): unit tests on copies of the
# generated test cards (in-process reference card), and the same
# open/verify/sign flow through a private pcscd and the virtual contact reader.

cnie_unit(card)
target_compile_definitions(test_card PRIVATE CNIE_BUILD_DIR="${PROJECT_BINARY_DIR}")
target_link_libraries(test_card PRIVATE PkgConfig::OPENSSL)
add_dependencies(test_card test_cards)

cnie_integration(card_pcsc ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  $<TARGET_FILE:test_card> pcsc)
# PIN entry on the virtual PIN-pad reader (keys queued with cnie-sim).
cnie_integration(card_pinpad ${CNIE_HARNESS}/with-pcscd --virtual --hide-usb --
  $<TARGET_FILE:test_card> pinpad $<TARGET_FILE:cnie-sim>)

# A hostile card: every response of the conversation comes from the input.
cnie_fuzz(card)
