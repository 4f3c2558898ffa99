# Web eID authentication token verifier (src/libcnie/webeid.c, include/cnie/webeid.h):
# unit tests over tokens built with OpenSSL keys and certificates made in
# the test, and the libFuzzer harness over the token JSON.
if(EXISTS ${PROJECT_SOURCE_DIR}/src/libcnie/webeid.c)
  cnie_unit(webeid)
  cnie_fuzz(webeid)
endif()

# cnie-tool verify-token on a token signed with the reference card's key.
if(TARGET cnie-tool AND EXISTS ${PROJECT_SOURCE_DIR}/tools/cnie-tool/cmd_verify_token.c)
  add_test(NAME webeid.cli
    COMMAND ${PROJECT_SOURCE_DIR}/tests/browser/verify-token-cli.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(webeid.cli PROPERTIES LABELS integration TIMEOUT 120)
endif()
