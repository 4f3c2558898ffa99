/*
 * A card in memory: keys, certificates, files and ATRs, built from a
 * description.  Writing it out is write.c's job.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include <cnie/error.h>

#include "perso.h"

int
perso_card_add(perso_card *card, const char *path, const char *read, int sfi,
    cnie_buf **data)
{
	perso_file *f;

	if (card->nfiles >= PERSO_MAX_FILES || strlen(path) >= sizeof(f->path) ||
	    perso_card_file(card, path) != NULL) {
		cnie_buf_free(data);
		return CNIE_ERR_INTERNAL;
	}
	f = &card->files[card->nfiles++];
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->read = read;
	f->sfi = sfi;
	f->data = *data;
	*data = NULL;
	return 0;
}

const perso_file *
perso_card_file(const perso_card *card, const char *path)
{
	size_t i;

	for (i = 0; i < card->nfiles; i++)
		if (strcmp(card->files[i].path, path) == 0)
			return &card->files[i];
	return NULL;
}

static void
to_hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", p[i]);
}

/* TCK (ISO 7816-3 8.2.5): the XOR of T0 .. TCK is zero. */
static uint8_t
tck(const uint8_t *atr, size_t n)
{
	uint8_t x = 0;
	size_t i;

	for (i = 1; i < n; i++)
		x ^= atr[i];
	return x;
}

int
perso_atr_make(perso_card *card)
{
	/*
	 * Contact (ISO 7816-3): TS 3B, T0 8C (TD1, 12 historical bytes),
	 * TD1 81 (TD2 follows, T=1), TD2 31 (TA3 TB3, T=1), TA3 FE (IFSC 254),
	 * TB3 45 (BWI 4, CWI 5).  Historical bytes (ISO 7816-4 8.1.1):
	 * 80 compact-TLV; 31 A8 card service data (select by full DF name,
	 * EF.DIR objects, READ BINARY); 73 B4 01 C0 card capabilities
	 * (DF name, path, FID, SFI; 1-byte data unit; command chaining and
	 * extended Lc/Le); 64 "CNIE" pre-issuing data.  Then TCK.
	 */
	uint8_t contact[] = { 0x3B, 0x8C, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x31, 0xA8, 0x73,
		0xB4, 0x01, 0xC0, 0x64, 'C', 'N', 'I', 'E', 0x00 };
	/*
	 * Contactless, PC/SC part 3 3.1.3.2.3 for ISO 14443-4 type B:
	 * 3B 88 80 01, ATQB application data (4), protocol info (3: 106 kbit/s
	 * only; frame 256 bytes, ISO 14443-4; FWI 7, CID supported), MBLI 0,
	 * TCK.
	 */
	uint8_t cl[] = { 0x3B, 0x88, 0x80, 0x01, 'C', 'N', 'I', 'E', 0x00, 0x81, 0x71,
		0x00, 0x00 };

	contact[sizeof(contact) - 1] = tck(contact, sizeof(contact) - 1);
	cl[sizeof(cl) - 1] = tck(cl, sizeof(cl) - 1);
	to_hex(contact, sizeof(contact), card->atr_contact);
	to_hex(cl, sizeof(cl), card->atr_contactless);
	return 0;
}

static int
make_keys(perso_card *card)
{
	const perso_desc *d = &card->desc;
	int r;

	if (d->family == PERSO_EC) {
		if ((r = perso_ec_key(d->seed, "auth", NID_X9_62_prime256v1,
		    &card->auth_key)) != 0 ||
		    (r = perso_ec_key(d->seed, "sign", NID_secp384r1, &card->sign_key)) != 0 ||
		    (r = perso_ec_key(d->seed, "aa", NID_X9_62_prime256v1,
		    &card->aa_key)) != 0)
			return r;
	} else {
		if ((r = perso_rsa_key(d->seed, "auth", 2048, &card->auth_key)) != 0 ||
		    (r = perso_rsa_key(d->seed, "sign", 3072, &card->sign_key)) != 0 ||
		    (r = perso_rsa_key(d->seed, "aa", 2048, &card->aa_key)) != 0)
			return r;
	}
	/* Chip Authentication over brainpoolP256r1, the PACE curve, or DH. */
	if (d->chip_dh)
		return perso_dh_key(d->seed, "chip", &card->chip_key);
	return perso_ec_key(d->seed, "chip", NID_brainpoolP256r1, &card->chip_key);
}

int
perso_card_make(const perso_desc *desc, perso_card *card, char *err, size_t errlen)
{
	const char *step = "keys";
	int r;

	memset(card, 0, sizeof(*card));
	card->desc = *desc;
	if ((r = perso_pki_make(desc->pki_seed, &card->pki)) != 0) {
		step = "test PKI";
		goto out;
	}
	if ((r = make_keys(card)) != 0)
		goto out;
	step = "certificates";
	if ((r = perso_certs_make(card)) != 0)
		goto out;
	step = "PKCS#15 files";
	if ((r = perso_pkcs15_make(card)) != 0)
		goto out;
	step = "LDS files";
	if ((r = perso_lds_make(card)) != 0)
		goto out;
	step = "ATR";
	r = perso_atr_make(card);
out:
	if (r != 0) {
		snprintf(err, errlen, "building the %s failed: %s", step, cnie_strerror(r));
		perso_card_free(card);
	}
	return r;
}

void
perso_card_free(perso_card *card)
{
	size_t i;

	perso_pki_free(&card->pki);
	EVP_PKEY_free(card->auth_key);
	EVP_PKEY_free(card->sign_key);
	EVP_PKEY_free(card->aa_key);
	EVP_PKEY_free(card->chip_key);
	X509_free(card->auth_cert);
	X509_free(card->sign_cert);
	for (i = 0; i < card->nfiles; i++)
		cnie_buf_free(&card->files[i].data);
	perso_desc_clear(&card->desc);
	memset(card, 0, sizeof(*card));
}
