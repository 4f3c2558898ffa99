# Web eID authentication token verifier (src/libcnie/webeid.c, include/cnie/webeid.h):
# unit tests over tokens built with OpenSSL keys and certificates made in
# the test, and the libFuzzer harness over the token JSON.
cnie_unit(webeid)
cnie_fuzz(webeid)

# cnie-tool verify-token on a token signed with the reference card's key.
add_test(NAME webeid.cli
  COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/verify-token-cli.sh ${PROJECT_BINARY_DIR})
set_tests_properties(webeid.cli PROPERTIES LABELS integration TIMEOUT 120)
