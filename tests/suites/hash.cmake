# The hash algorithm table (src/libcnie/hash.c, include/cnie/hash.h), checked
# against OpenSSL's own names, NIDs, sizes and OIDs.
cnie_unit(hash)
target_link_libraries(test_hash PRIVATE PkgConfig::OPENSSL)
