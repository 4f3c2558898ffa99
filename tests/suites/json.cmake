# Bounded JSON input shared by cnied and the Web eID verifier (src/libcnie/json.c);
# fuzzed through fuzz_cnied_request and fuzz_webeid.
cnie_unit(json)
