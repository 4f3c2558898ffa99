/*
 * Unit tests of the PKCS#11 module's card-free parts (pkcs11/): the
 * cnie_error -> CKR table, C_GetAttributeValue semantics, template
 * matching, object handles, the mechanism list and signature parameter
 * checks (PSS as the card does it), all without a card.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p11_int.h"

static void
test_ckr_table(void **state)
{
	(void)state;
	assert_int_equal(p11_ckr(CNIE_OK), CKR_OK);
	assert_int_equal(p11_ckr(CNIE_ERR_PIN_INCORRECT), CKR_PIN_INCORRECT);
	assert_int_equal(p11_ckr(CNIE_ERR_PIN_BLOCKED), CKR_PIN_LOCKED);
	assert_int_equal(p11_ckr(CNIE_ERR_SW_AUTH_BLOCKED), CKR_PIN_LOCKED);
	assert_int_equal(p11_ckr(CNIE_ERR_PIN_FORMAT), CKR_PIN_LEN_RANGE);
	assert_int_equal(p11_ckr(CNIE_ERR_LOGIN_LOST), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(p11_ckr(CNIE_ERR_SW_SECURITY_STATUS), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(p11_ckr(CNIE_ERR_CARD_REMOVED), CKR_DEVICE_REMOVED);
	assert_int_equal(p11_ckr(CNIE_ERR_NO_CARD), CKR_DEVICE_REMOVED);
	assert_int_equal(p11_ckr(CNIE_ERR_CARD_NOT_RECOGNISED), CKR_TOKEN_NOT_RECOGNIZED);
	assert_int_equal(p11_ckr(CNIE_ERR_PINPAD_CANCELLED), CKR_FUNCTION_CANCELED);
	assert_int_equal(p11_ckr(CNIE_ERR_NOMEM), CKR_HOST_MEMORY);
	assert_int_equal(p11_ckr(CNIE_ERR_UNSUPPORTED), CKR_FUNCTION_NOT_SUPPORTED);
	/* Card or reader trouble the caller cannot fix: a device error. */
	assert_int_equal(p11_ckr(CNIE_ERR_BAD_RESPONSE), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr(CNIE_ERR_SM), CKR_DEVICE_ERROR);
	assert_int_equal(p11_ckr(-9999), CKR_DEVICE_ERROR);
}

static void
add(p11_object *o, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
	p11_attr *a = &o->attrs[o->nattrs++];

	a->type = type;
	a->len = len;
	a->value = malloc(len + 1);
	assert_non_null(a->value);
	memcpy(a->value, v, len);
}

static void
free_obj(p11_object *o)
{
	size_t i;

	for (i = 0; i < o->nattrs; i++)
		free(o->attrs[i].value);
}

static void
test_get_attribute_semantics(void **state)
{
	p11_object o;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY, got = 0;
	uint8_t label[8], small[2];
	CK_ATTRIBUTE t[3];

	(void)state;
	memset(&o, 0, sizeof(o));
	o.cls = CKO_PRIVATE_KEY;
	add(&o, CKA_CLASS, &cls, sizeof(cls));
	add(&o, CKA_LABEL, "Auth", 4);

	/* Size query. */
	t[0].type = CKA_LABEL;
	t[0].pValue = NULL;
	t[0].ulValueLen = 0;
	assert_int_equal(p11_object_get(&o, t, 1), CKR_OK);
	assert_int_equal(t[0].ulValueLen, 4);
	/* Too small: marked, others still filled. */
	t[0].pValue = small;
	t[0].ulValueLen = sizeof(small);
	t[1].type = CKA_CLASS;
	t[1].pValue = &got;
	t[1].ulValueLen = sizeof(got);
	assert_int_equal(p11_object_get(&o, t, 2), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(t[1].ulValueLen, sizeof(got));
	assert_int_equal(got, CKO_PRIVATE_KEY);
	/* Unknown type beats too small; sensitive beats both. */
	t[0].pValue = small;
	t[0].ulValueLen = sizeof(small);
	t[1].type = 0x80000001;
	t[1].ulValueLen = 4;
	assert_int_equal(p11_object_get(&o, t, 2), CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	t[0].ulValueLen = sizeof(small); /* reset: the call marked it */
	t[1].ulValueLen = 4;
	t[2].type = CKA_PRIVATE_EXPONENT;
	t[2].pValue = label;
	t[2].ulValueLen = sizeof(label);
	assert_int_equal(p11_object_get(&o, t, 3), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	/* CKA_VALUE is secret on a private key only. */
	t[0].type = CKA_VALUE;
	t[0].ulValueLen = 2;
	assert_int_equal(p11_object_get(&o, t, 1), CKR_ATTRIBUTE_SENSITIVE);
	o.cls = CKO_CERTIFICATE;
	t[0].ulValueLen = 2;
	assert_int_equal(p11_object_get(&o, t, 1), CKR_ATTRIBUTE_TYPE_INVALID);
	free_obj(&o);
}

static void
test_template_match(void **state)
{
	p11_object o;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE, other = CKO_PUBLIC_KEY;
	CK_BYTE one = 1;
	CK_ATTRIBUTE t[2];

	(void)state;
	memset(&o, 0, sizeof(o));
	add(&o, CKA_CLASS, &cls, sizeof(cls));
	add(&o, CKA_ID, "\x01\x02", 2);
	assert_true(p11_object_match(&o, NULL, 0));
	t[0].type = CKA_CLASS;
	t[0].pValue = &cls;
	t[0].ulValueLen = sizeof(cls);
	t[1].type = CKA_ID;
	t[1].pValue = (void *)(uintptr_t)"\x01\x02";
	t[1].ulValueLen = 2;
	assert_true(p11_object_match(&o, t, 2));
	t[1].ulValueLen = 1; /* a prefix is not a match */
	assert_false(p11_object_match(&o, t, 2));
	t[0].pValue = &other;
	assert_false(p11_object_match(&o, t, 1));
	t[0].pValue = &one; /* wrong size for CKA_CLASS */
	t[0].ulValueLen = 1;
	assert_false(p11_object_match(&o, t, 1));
	t[0].type = CKA_LABEL; /* absent attribute */
	assert_false(p11_object_match(&o, t, 1));
	free_obj(&o);
}

static void
test_object_handles(void **state)
{
	p11_token *t = calloc(1, sizeof(*t));
	CK_OBJECT_HANDLE h;

	(void)state;
	assert_non_null(t);
	t->gen = 7;
	t->nobjects = 6;
	h = p11_object_handle(t, 5);
	assert_int_equal(p11_object_index(t, h), 5);
	assert_int_equal(p11_object_index(t, 0), -1);
	assert_int_equal(p11_object_index(t, h + 1), -1); /* past the end */
	t->gen = 8; /* card re-inserted: old handles fail */
	assert_int_equal(p11_object_index(t, h), -1);
	free(t);
}

static void
test_mechanism_list(void **state)
{
	CK_MECHANISM_TYPE l[32];
	CK_MECHANISM_INFO mi;
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(p11_mech_list(true, false, NULL, &n), CKR_OK);
	assert_int_equal(n, 12);
	assert_int_equal(p11_mech_list(false, true, NULL, &n), CKR_OK);
	assert_int_equal(n, 6);
	n = 3;
	assert_int_equal(p11_mech_list(true, true, l, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 18);
	n = 32;
	assert_int_equal(p11_mech_list(false, true, l, &n), CKR_OK);
	assert_int_equal(l[0], CKM_ECDSA);
	assert_int_equal(p11_mech_list(true, true, l, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11_mech_info(false, true, CKM_RSA_PKCS, &mi), CKR_MECHANISM_INVALID);
	assert_int_equal(p11_mech_info(true, false, CKM_SHA256_RSA_PKCS_PSS, &mi), CKR_OK);
	assert_true(mi.flags & CKF_SIGN);
	assert_int_equal(p11_mech_info(true, false, CKM_RSA_PKCS_OAEP, &mi), CKR_MECHANISM_INVALID);
}

static cnie_card_key_info
key(cnie_card_key_type type, uint32_t bits)
{
	cnie_card_key_info k;

	memset(&k, 0, sizeof(k));
	k.type = type;
	k.bits = bits;
	k.usage = CNIE_CARD_USAGE_SIGN;
	return k;
}

static void
test_pss_parameters(void **state)
{
	p11_sign_state *st = calloc(1, sizeof(*st));
	cnie_card_key_info rsa = key(CNIE_CARD_KEY_RSA, 2048), ec = key(CNIE_CARD_KEY_EC, 256);
	CK_RSA_PKCS_PSS_PARAMS p = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM m = { CKM_RSA_PKCS_PSS, &p, sizeof(p) };

	(void)state;
	assert_non_null(st);
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_OK);
	assert_int_equal(st->cm.type, CNIE_CARD_MECH_RSA_PSS);
	assert_int_equal(st->cm.hash, CNIE_CARD_HASH_SHA256);
	assert_int_equal(p11_sign_max_len(st, &rsa), 256);
	/* Raw PSS: the input must be the hash the parameters name. */
	assert_int_equal(p11_sign_update(st, (const uint8_t *)"0123456789", 10), CKR_OK);
	p.sLen = 20; /* the card's salt is the hash length */
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_MECHANISM_PARAM_INVALID);
	p.sLen = 32;
	p.mgf = CKG_MGF1_SHA1;
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_MECHANISM_PARAM_INVALID);
	p.mgf = CKG_MGF1_SHA256;
	m.ulParameterLen = sizeof(p) - 1;
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_MECHANISM_PARAM_INVALID);
	m.ulParameterLen = sizeof(p);
	m.pParameter = NULL;
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_MECHANISM_PARAM_INVALID);
	m.pParameter = &p;
	m.mechanism = CKM_SHA384_RSA_PKCS_PSS; /* hashAlg must be the mechanism's */
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_MECHANISM_PARAM_INVALID);
	p.hashAlg = CKM_SHA384;
	p.mgf = CKG_MGF1_SHA384;
	p.sLen = 48;
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_OK);
	assert_non_null(st->mdctx);
	assert_int_equal(p11_sign_init(st, &m, &ec, 0), CKR_KEY_TYPE_INCONSISTENT);
	p11_sign_clear(st);
	free(st);
}

static void
test_sign_sizes_and_raw_input(void **state)
{
	p11_sign_state *st = calloc(1, sizeof(*st));
	cnie_card_key_info p256 = key(CNIE_CARD_KEY_EC, 256), p521 = key(CNIE_CARD_KEY_EC, 521);
	cnie_card_key_info rsa = key(CNIE_CARD_KEY_RSA, 2048);
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	uint8_t big[P11_MAX_RAW_INPUT];
	uint8_t p = 0;

	(void)state;
	assert_non_null(st);
	memset(big, 0, sizeof(big));
	assert_int_equal(p11_sign_init(st, &m, &p256, 0), CKR_OK);
	assert_int_equal(p11_sign_max_len(st, &p256), 64);
	assert_int_equal(p11_sign_max_len(st, &p521), 132);
	assert_int_equal(p11_sign_update(st, big, sizeof(big)), CKR_OK);
	assert_int_equal(p11_sign_update(st, big, 1), CKR_DATA_LEN_RANGE);
	m.pParameter = &p;
	m.ulParameterLen = 1;
	assert_int_equal(p11_sign_init(st, &m, &p256, 0), CKR_MECHANISM_PARAM_INVALID);
	m.pParameter = NULL;
	m.ulParameterLen = 0;
	m.mechanism = CKM_RSA_PKCS;
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_OK);
	/* Any PKCS#1 block on the authentication key: INTERNAL AUTHENTICATE. */
	assert_true(st->internal_auth);
	rsa.always_pin = true;
	rsa.usage = CNIE_CARD_USAGE_NON_REPUDIATION;
	assert_int_equal(p11_sign_init(st, &m, &rsa, 0), CKR_OK);
	assert_false(st->internal_auth);
	assert_true(st->always_auth);
	p11_sign_clear(st);
	free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ckr_table),
		cmocka_unit_test(test_get_attribute_semantics),
		cmocka_unit_test(test_template_match),
		cmocka_unit_test(test_object_handles),
		cmocka_unit_test(test_mechanism_list),
		cmocka_unit_test(test_pss_parameters),
		cmocka_unit_test(test_sign_sizes_and_raw_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
