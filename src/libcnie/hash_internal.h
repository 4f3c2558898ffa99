/*
 * Internal to libcnie: the OpenSSL digest of a hash of include/cnie/hash.h,
 * for the card layer and Passive Authentication (front ends outside the
 * library take cnie_hash_info.ossl_name instead).
 */
#ifndef CNIE_HASH_INTERNAL_H
#define CNIE_HASH_INTERNAL_H

#include <openssl/evp.h>

#include <cnie/hash.h>

/* OpenSSL's built-in digest for id; NULL for NONE or an unknown id. */
const EVP_MD *cnie_hash_md(cnie_card_hash id);

#endif
