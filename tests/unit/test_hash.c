/* The hash algorithm table (include/cnie/hash.h): facts checked against OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include <cnie/error.h>
#include <cnie/hash.h>

/* Every entry agrees with OpenSSL: name, NID, length, OID, DigestInfo. */
static void
test_table_matches_openssl(void **state)
{
	const cnie_hash_info *h;
	size_t i;

	(void)state;
	for (i = 0; (h = cnie_hash_at(i)) != NULL; i++) {
		const EVP_MD *md = EVP_get_digestbyname(h->ossl_name);
		ASN1_OBJECT *o = OBJ_nid2obj(h->nid);
		unsigned char der[32];
		unsigned char *p = der;
		int dl;

		assert_non_null(md);
		assert_int_equal(EVP_MD_get_type(md), h->nid);
		assert_int_equal((size_t)EVP_MD_get_size(md), h->len);
		assert_true(h->len <= CNIE_HASH_MAX_LEN);
		/* OID contents octets = OpenSSL's DER minus tag and length. */
		assert_non_null(o);
		dl = i2d_ASN1_OBJECT(o, &p);
		assert_true(dl > 2 && (size_t)dl - 2 == h->oid_len);
		assert_memory_equal(der + 2, h->oid, h->oid_len);
		/* DigestInfo: SEQ { SEQ { OID, NULL }, OCTET STRING len }, the hash appended. */
		assert_int_equal(h->digest_info_len, 2 + 2 + 2 + h->oid_len + 2 + 2);
		assert_int_equal(h->digest_info[1], h->digest_info_len - 2 + h->len);
		assert_memory_equal(h->digest_info + 4, der, (size_t)dl);
		assert_int_equal(h->digest_info[h->digest_info_len - 2], 0x04);
		assert_int_equal(h->digest_info[h->digest_info_len - 1], h->len);
		/* Every lookup finds this entry again. */
		assert_ptr_equal(cnie_hash_by_id(h->id), h);
		assert_ptr_equal(cnie_hash_by_len(h->len), h);
		assert_ptr_equal(cnie_hash_by_oid(h->oid, h->oid_len), h);
		assert_ptr_equal(cnie_hash_by_name(h->name, CNIE_HASH_NAME_STD), h);
		assert_ptr_equal(cnie_hash_by_name(h->ossl_name, CNIE_HASH_NAME_OPENSSL), h);
		assert_ptr_equal(cnie_hash_by_name(h->cli_name, CNIE_HASH_NAME_ANY), h);
		if (i > 0)
			assert_true(cnie_hash_at(i - 1)->len < h->len);
	}
	assert_int_equal(i, 5);
}

static void
test_lookups(void **state)
{
	static const uint8_t sha256_oid[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
	const cnie_hash_info *h;

	(void)state;
	h = cnie_hash_by_id(CNIE_CARD_HASH_SHA256);
	assert_non_null(h);
	assert_string_equal(h->name, "SHA-256");
	assert_string_equal(h->ossl_name, "SHA256");
	assert_string_equal(h->cli_name, "sha256");
	assert_int_equal(h->len, 32);
	assert_ptr_equal(cnie_hash_by_oid(sha256_oid, sizeof(sha256_oid)), h);
	/* A prefix of an OID is not the OID. */
	assert_null(cnie_hash_by_oid(sha256_oid, sizeof(sha256_oid) - 1));
	assert_null(cnie_hash_by_oid(NULL, 0));
	assert_null(cnie_hash_by_id(CNIE_CARD_HASH_NONE));
	assert_null(cnie_hash_by_id((cnie_card_hash)99));
	assert_null(cnie_hash_by_len(0));
	assert_null(cnie_hash_by_len(16)); /* MD5: not ours */
	assert_null(cnie_hash_at(5));
}

/* The strict spellings stay strict; ANY takes what a person types. */
static void
test_names(void **state)
{
	const cnie_hash_info *h = cnie_hash_by_id(CNIE_CARD_HASH_SHA384);

	(void)state;
	assert_ptr_equal(cnie_hash_by_name("SHA-384", CNIE_HASH_NAME_STD), h);
	assert_null(cnie_hash_by_name("SHA384", CNIE_HASH_NAME_STD));
	assert_null(cnie_hash_by_name("sha-384", CNIE_HASH_NAME_STD));
	assert_ptr_equal(cnie_hash_by_name("SHA384", CNIE_HASH_NAME_OPENSSL), h);
	assert_null(cnie_hash_by_name("SHA-384", CNIE_HASH_NAME_OPENSSL));
	assert_ptr_equal(cnie_hash_by_name("sha384", CNIE_HASH_NAME_ANY), h);
	assert_ptr_equal(cnie_hash_by_name("Sha-384", CNIE_HASH_NAME_ANY), h);
	assert_ptr_equal(cnie_hash_by_name("SHA384", CNIE_HASH_NAME_ANY), h);
	assert_null(cnie_hash_by_name("sha38", CNIE_HASH_NAME_ANY));
	assert_null(cnie_hash_by_name("sha3-384", CNIE_HASH_NAME_ANY));
	assert_null(cnie_hash_by_name("", CNIE_HASH_NAME_ANY));
	assert_null(cnie_hash_by_name(NULL, CNIE_HASH_NAME_ANY));
	assert_null(cnie_hash_by_name("SHA-384", (cnie_hash_names)0));
}

/* FIPS 180-4 "abc" vectors, and the argument checks. */
static void
test_digest(void **state)
{
	static const uint8_t abc256[] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41,
		0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a,
		0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	static const uint8_t abc1[] = { 0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
		0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d };
	uint8_t out[CNIE_HASH_MAX_LEN];
	size_t n = 0;

	(void)state;
	assert_int_equal(cnie_hash_digest(CNIE_CARD_HASH_SHA256, "abc", 3, out, sizeof(out), &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(out, abc256, 32);
	assert_int_equal(cnie_hash_digest(CNIE_CARD_HASH_SHA1, "abc", 3, out, 20, &n), 0);
	assert_int_equal(n, 20);
	assert_memory_equal(out, abc1, 20);
	assert_int_equal(cnie_hash_digest(CNIE_CARD_HASH_SHA256, "abc", 3, out, 31, &n),
	    CNIE_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(cnie_hash_digest(CNIE_CARD_HASH_NONE, "abc", 3, out, sizeof(out), &n),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_hash_digest(CNIE_CARD_HASH_SHA256, NULL, 3, out, sizeof(out), &n),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_hash_digest(CNIE_CARD_HASH_SHA256, NULL, 0, out, sizeof(out), &n), 0);
	assert_int_equal(cnie_hash_digest(CNIE_CARD_HASH_SHA256, "abc", 3, NULL, 64, &n),
	    CNIE_ERR_INVALID_ARG);
	assert_int_equal(cnie_hash_digest(CNIE_CARD_HASH_SHA256, "abc", 3, out, 64, NULL),
	    CNIE_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_openssl),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
