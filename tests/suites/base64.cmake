# Strict base64 shared by cnied and the Web eID verifier (src/libcnie/base64.c);
# fuzzed with a round trip in fuzz_cnied_request, and through fuzz_webeid.
cnie_unit(base64)
