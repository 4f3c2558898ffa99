# PKCS#15 (ISO/IEC 7816-15) structure parsers (src/libcnie/pkcs15.c): unit tests over
# the generated test cards (target test_cards) and hostile inputs, and the
# libFuzzer harness over every parser.

cnie_unit(pkcs15)
target_compile_definitions(test_pkcs15 PRIVATE CNIE_BUILD_DIR="${PROJECT_BINARY_DIR}")
add_dependencies(test_pkcs15 test_cards)

cnie_fuzz(pkcs15)
