/*
 * ICAO 9303-10 LDS1 data group parsers.  Input is a whole EF as read from
 * the card, untrusted: every byte goes through cnie_cur / cnie_tlv, every
 * length is capped, and the structures are walked to a fixed depth.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/lds.h>
#include <cnie/tlv.h>

#include "lds_internal.h"

/* Longest text value accepted in DG11/DG12 (9303-10 gives no bound). */
#define LDS_TEXT_MAX 4096
/* Most entries in a list of other names / other persons. */
#define LDS_LIST_MAX 32
/* Largest face record accepted (a JPEG 2000 portrait is ~15-20 KiB). */
#define LDS_IMAGE_MAX (1024u * 1024u)

/* 9303-10 Table 34: DG tags in DG number order. */
static const uint8_t dg_tags[CNIE_LDS_MAX_DG] = {
	0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68,
	0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70,
};

int
cnie_lds_tag_to_dg(uint32_t tag)
{
	int i;

	for (i = 0; i < CNIE_LDS_MAX_DG; i++)
		if (dg_tags[i] == tag)
			return i + 1;
	return 0;
}

uint32_t
cnie_lds_dg_to_tag(int dg)
{
	if (dg < 1 || dg > CNIE_LDS_MAX_DG)
		return 0;
	return dg_tags[dg - 1];
}

int
cnie_lds_utf8_check(const uint8_t *p, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;
	uint8_t b;

	if (p == NULL && n != 0)
		return CNIE_ERR_INVALID_ARG;
	while (i < n) {
		b = p[i++];
		if (b == 0x00)
			return CNIE_ERR_ENCODING; /* would cut the C string */
		if (b < 0x80)
			continue;
		if (b >= 0xC2 && b <= 0xDF) {
			need = 1;
			cp = b & 0x1Fu;
			min = 0x80;
		} else if (b >= 0xE0 && b <= 0xEF) {
			need = 2;
			cp = b & 0x0Fu;
			min = 0x800;
		} else if (b >= 0xF0 && b <= 0xF4) {
			need = 3;
			cp = b & 0x07u;
			min = 0x10000;
		} else {
			return CNIE_ERR_ENCODING; /* continuation, C0/C1 overlong, F5..FF */
		}
		if (need > n - i)
			return CNIE_ERR_ENCODING;
		for (k = 0; k < need; k++) {
			b = p[i++];
			if ((b & 0xC0) != 0x80)
				return CNIE_ERR_ENCODING;
			cp = (cp << 6) | (b & 0x3Fu);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return CNIE_ERR_ENCODING;
	}
	return 0;
}

/* Copies a text value into a fresh NUL-terminated string after checking it. */
static int
dup_text(const cnie_tlv *t, char **out)
{
	int r;

	if (*out != NULL)
		return CNIE_ERR_ENCODING; /* the same tag twice */
	if (t->constructed)
		return CNIE_ERR_ENCODING;
	if (t->len > LDS_TEXT_MAX)
		return CNIE_ERR_TOO_LONG;
	if ((r = cnie_lds_utf8_check(t->value, t->len)) != 0)
		return r;
	if ((*out = malloc(t->len + 1)) == NULL)
		return CNIE_ERR_NOMEM;
	if (t->len != 0)
		memcpy(*out, t->value, t->len);
	(*out)[t->len] = '\0';
	return 0;
}

/*
 * A date: "YYYYMMDD" as text, or (seen on issued documents) 4 bytes of
 * BCD, which is converted to the text form.
 */
static int
dup_date(const cnie_tlv *t, char **out)
{
	char s[9];
	size_t i;

	if (t->len == 4 && !t->constructed && *out == NULL) {
		for (i = 0; i < 4; i++) {
			if ((t->value[i] >> 4) > 9 || (t->value[i] & 0x0F) > 9)
				return CNIE_ERR_ENCODING;
			s[2 * i] = (char)('0' + (t->value[i] >> 4));
			s[2 * i + 1] = (char)('0' + (t->value[i] & 0x0F));
		}
		s[8] = '\0';
		return (*out = strdup(s)) == NULL ? CNIE_ERR_NOMEM : 0;
	}
	return dup_text(t, out);
}

static void
free_text(char **s)
{
	if (*s != NULL) {
		cnie_freezero(*s, strlen(*s));
		*s = NULL;
	}
}

static void
free_list(char ***list, size_t *n)
{
	size_t i;

	if (*list == NULL)
		return;
	for (i = 0; i < *n; i++)
		free_text(&(*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

static int
list_add(char ***list, size_t *n, const cnie_tlv *t)
{
	char **grown;

	if (*n >= LDS_LIST_MAX)
		return CNIE_ERR_TOO_LONG;
	if ((grown = realloc(*list, (*n + 1) * sizeof(**list))) == NULL)
		return CNIE_ERR_NOMEM;
	*list = grown;
	grown[*n] = NULL;
	(*n)++;
	return dup_text(t, &grown[*n - 1]);
}

/*
 * 9303-10 4.7.11/4.7.12: a list of names comes as A0 { 02 count, tag... },
 * or bare (the count then absent).  The count must match the entries.
 */
static int
parse_list(const cnie_tlv *a0, uint32_t tag, char ***list, size_t *n)
{
	cnie_cur c;
	cnie_tlv t;
	size_t before = *n;
	uint32_t count = 0;
	bool have_count = false;
	int r;

	cnie_cur_init(&c, a0->value, a0->len);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_tlv_next(&c, &t)) != 0)
			return r;
		if (t.tag == 0x02 && !have_count && *n == before) {
			cnie_cur ic;

			if (t.len < 1 || t.len > 2)
				return CNIE_ERR_ENCODING;
			cnie_cur_init(&ic, t.value, t.len);
			if ((r = cnie_cur_uint_be(&ic, t.len, &count)) != 0)
				return r;
			have_count = true;
		} else if (t.tag == tag) {
			if ((r = list_add(list, n, &t)) != 0)
				return r;
		} else {
			return CNIE_ERR_ENCODING;
		}
	}
	if (have_count && count != *n - before)
		return CNIE_ERR_ENCODING;
	return 0;
}

/* Opens the outer template: exactly one TLV with the expected tag, whole input. */
static int
outer(const uint8_t *p, size_t n, uint32_t tag, size_t depth, cnie_tlv *t)
{
	int r;

	if (p == NULL && n != 0)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_tlv_parse_one(p, n, t)) != 0)
		return r;
	if (t->tag != tag || !t->constructed)
		return CNIE_ERR_ENCODING;
	if (depth > 0 && (r = cnie_tlv_validate(p, n, depth)) != 0)
		return r;
	return 0;
}

/* ---- EF.COM ---------------------------------------------------------- */

/* A fixed-width string of digits (LDS and Unicode version numbers). */
static int
digits(const cnie_tlv *t, char *out, size_t width)
{
	size_t i;

	if (t->constructed || t->len != width || out[0] != '\0')
		return CNIE_ERR_ENCODING;
	for (i = 0; i < width; i++) {
		if (t->value[i] < '0' || t->value[i] > '9')
			return CNIE_ERR_ENCODING;
		out[i] = (char)t->value[i];
	}
	out[width] = '\0';
	return 0;
}

int
cnie_lds_com_parse(const uint8_t *p, size_t n, cnie_lds_com **out)
{
	cnie_lds_com *com = NULL;
	cnie_cur c;
	cnie_tlv t, e;
	bool have_list = false;
	size_t i, j;
	int r, dg;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((r = outer(p, n, 0x60, 2, &e)) != 0)
		return r;
	if ((com = calloc(1, sizeof(*com))) == NULL)
		return CNIE_ERR_NOMEM;
	cnie_cur_init(&c, e.value, e.len);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_tlv_next(&c, &t)) != 0)
			goto out;
		switch (t.tag) {
		case 0x5F01:
			r = digits(&t, com->lds_version, 4);
			break;
		case 0x5F36:
			r = digits(&t, com->unicode_version, 6);
			break;
		case 0x5C:
			/* The tag list: one-byte DG tags, each once. */
			if (have_list || t.constructed || t.len > CNIE_LDS_MAX_DG) {
				r = CNIE_ERR_ENCODING;
				break;
			}
			have_list = true;
			for (i = 0; i < t.len; i++) {
				if ((dg = cnie_lds_tag_to_dg(t.value[i])) == 0) {
					r = CNIE_ERR_ENCODING;
					goto out;
				}
				for (j = 0; j < com->ndgs; j++)
					if (com->dgs[j] == dg) {
						r = CNIE_ERR_ENCODING;
						goto out;
					}
				com->dgs[com->ndgs++] = dg;
			}
			break;
		default:
			break;
		}
		if (r != 0)
			goto out;
	}
	/* All three are mandatory (9303-10 4.6.1). */
	if (!have_list || com->lds_version[0] == '\0' || com->unicode_version[0] == '\0') {
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	*out = com;
	com = NULL;
out:
	cnie_lds_com_free(&com);
	return r;
}

void
cnie_lds_com_free(cnie_lds_com **com)
{
	if (com == NULL || *com == NULL)
		return;
	cnie_freezero(*com, sizeof(**com));
	*com = NULL;
}

/* ---- DG1 ------------------------------------------------------------- */

int
cnie_lds_dg1_parse(const uint8_t *p, size_t n, cnie_lds_dg1 **out, cnie_mrz_field *bad)
{
	cnie_lds_dg1 *dg1 = NULL;
	cnie_tlv e, t;
	int r;

	if (bad != NULL)
		*bad = CNIE_MRZ_FIELD_NONE;
	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((r = outer(p, n, 0x61, 2, &e)) != 0)
		return r;
	/* 9303-10 4.7.1: DG1 holds the MRZ data element and nothing else. */
	if ((r = cnie_tlv_parse_one(e.value, e.len, &t)) != 0)
		return r;
	if (t.tag != 0x5F1F || t.constructed)
		return CNIE_ERR_ENCODING;
	if ((dg1 = calloc(1, sizeof(*dg1))) == NULL)
		return CNIE_ERR_NOMEM;
	r = cnie_mrz_parse((const char *)t.value, t.len, &dg1->mrz, &dg1->mrz_bad);
	if (bad != NULL)
		*bad = dg1->mrz_bad;
	if (r != 0)
		goto out;
	*out = dg1;
	dg1 = NULL;
out:
	cnie_lds_dg1_free(&dg1);
	return r;
}

void
cnie_lds_dg1_free(cnie_lds_dg1 **dg1)
{
	if (dg1 == NULL || *dg1 == NULL)
		return;
	cnie_freezero(*dg1, sizeof(**dg1));
	*dg1 = NULL;
}

/* ---- DG2 ------------------------------------------------------------- */

static bool
magic_ok(cnie_lds_image_format f, const uint8_t *p, size_t n)
{
	static const uint8_t jpeg[3] = { 0xFF, 0xD8, 0xFF };
	static const uint8_t jp2[8] = { 0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20 };
	static const uint8_t j2k[4] = { 0xFF, 0x4F, 0xFF, 0x51 };

	if (f == CNIE_LDS_IMAGE_JPEG)
		return n >= sizeof(jpeg) && memcmp(p, jpeg, sizeof(jpeg)) == 0;
	return (n >= sizeof(jp2) && memcmp(p, jp2, sizeof(jp2)) == 0) ||
	    (n >= sizeof(j2k) && memcmp(p, j2k, sizeof(j2k)) == 0);
}

/*
 * ISO/IEC 19794-5:2005 facial record: header (5.4: "FAC\0", version,
 * record length u32, number of images u16), then per image the facial
 * information block (5.5: block length u32, feature points u16, gender,
 * eye, hair, mask[3], expression u16, pose[3], uncertainty[3]), feature
 * points (5.6: 8 bytes each) and image information (5.7: type, data type,
 * width u16, height u16, colour, source, device u16, quality u16), then
 * the image.  Only the first image is returned.
 */
static int
face_record(cnie_lds_dg2 *dg2, const uint8_t *p, size_t n)
{
	const uint8_t *img;
	uint8_t magic[4], version[4], gender, data_type;
	uint16_t nimages, npoints, w, h;
	uint32_t rec_len, block_len;
	size_t img_len;
	cnie_cur c, blk;
	int r;

	cnie_cur_init(&c, p, n);
	cnie_cur_copy(&c, magic, 4);
	cnie_cur_copy(&c, version, 4);
	cnie_cur_u32be(&c, &rec_len);
	cnie_cur_u16be(&c, &nimages);
	if ((r = c.err) != 0)
		return r;
	if (memcmp(magic, "FAC\0", 4) != 0 || version[3] != 0)
		return CNIE_ERR_ENCODING;
	/* The record fills the data object exactly. */
	if (rec_len != n)
		return rec_len > n ? CNIE_ERR_TRUNCATED : CNIE_ERR_TRAILING;
	if (nimages == 0)
		return CNIE_ERR_ENCODING;
	cnie_cur_u32be(&c, &block_len);
	if ((r = c.err) != 0)
		return r;
	if (block_len < 4 || block_len - 4 > cnie_cur_left(&c))
		return CNIE_ERR_TRUNCATED;
	if ((r = cnie_cur_sub(&c, block_len - 4, &blk)) != 0)
		return r;
	cnie_cur_u16be(&blk, &npoints);
	cnie_cur_u8(&blk, &gender);
	cnie_cur_skip(&blk, 2 + 3 + 2 + 3 + 3);
	cnie_cur_skip(&blk, (size_t)npoints * 8);
	cnie_cur_skip(&blk, 1);
	cnie_cur_u8(&blk, &data_type);
	cnie_cur_u16be(&blk, &w);
	cnie_cur_u16be(&blk, &h);
	cnie_cur_skip(&blk, 1 + 1 + 2 + 2);
	if ((r = blk.err) != 0)
		return r;
	img_len = cnie_cur_left(&blk);
	if (img_len == 0)
		return CNIE_ERR_TRUNCATED;
	if (data_type > 1)
		return CNIE_ERR_UNSUPPORTED;
	if ((r = cnie_cur_take(&blk, img_len, &img)) != 0)
		return r;
	dg2->format = data_type == 0 ? CNIE_LDS_IMAGE_JPEG : CNIE_LDS_IMAGE_JPEG2000;
	if (!magic_ok(dg2->format, img, img_len))
		return CNIE_ERR_ENCODING;
	dg2->width = w;
	dg2->height = h;
	dg2->gender = gender;
	if ((dg2->image = malloc(img_len)) == NULL)
		return CNIE_ERR_NOMEM;
	memcpy(dg2->image, img, img_len);
	dg2->image_len = img_len;
	return 0;
}

int
cnie_lds_dg2_parse(const uint8_t *p, size_t n, cnie_lds_dg2 **out)
{
	cnie_lds_dg2 *dg2 = NULL;
	cnie_cur c, ic;
	cnie_tlv e, grp, t, bio;
	uint32_t count;
	bool have_count = false, have_bio = false;
	int r;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	/* No cnie_tlv_validate: 7F2E is constructed but holds a 19794 record. */
	if ((r = outer(p, n, 0x75, 0, &e)) != 0)
		return r;
	if ((r = cnie_tlv_parse_one(e.value, e.len, &grp)) != 0)
		return r;
	if (grp.tag != 0x7F61 || !grp.constructed)
		return CNIE_ERR_ENCODING;
	if ((dg2 = calloc(1, sizeof(*dg2))) == NULL)
		return CNIE_ERR_NOMEM;
	/* 9303-10 4.7.2.1: 02 instance count, then one 7F60 per instance. */
	cnie_cur_init(&c, grp.value, grp.len);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_tlv_next(&c, &t)) != 0)
			goto out;
		if (t.tag == 0x02 && !have_count) {
			if (t.len != 1) {
				r = CNIE_ERR_ENCODING;
				goto out;
			}
			cnie_cur_init(&ic, t.value, t.len);
			if ((r = cnie_cur_uint_be(&ic, 1, &count)) != 0)
				goto out;
			have_count = true;
			dg2->instances = count;
			continue;
		}
		if (t.tag != 0x7F60 || !have_count || !t.constructed) {
			r = CNIE_ERR_ENCODING;
			goto out;
		}
		if (have_bio)
			continue; /* later instances are not returned */
		/* Biometric information template: A1 header, then the data. */
		cnie_cur_init(&ic, t.value, t.len);
		if ((r = cnie_tlv_next(&ic, &bio)) != 0)
			goto out;
		if (bio.tag != 0xA1) {
			r = CNIE_ERR_ENCODING;
			goto out;
		}
		if ((r = cnie_tlv_next(&ic, &bio)) != 0 || (r = cnie_cur_end(&ic)) != 0)
			goto out;
		if (bio.tag != 0x5F2E && bio.tag != 0x7F2E) {
			r = CNIE_ERR_ENCODING;
			goto out;
		}
		if (bio.len > LDS_IMAGE_MAX) {
			r = CNIE_ERR_TOO_LONG;
			goto out;
		}
		if ((r = face_record(dg2, bio.value, bio.len)) != 0)
			goto out;
		have_bio = true;
	}
	if (!have_bio || dg2->instances == 0) {
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	*out = dg2;
	dg2 = NULL;
out:
	cnie_lds_dg2_free(&dg2);
	return r;
}

void
cnie_lds_dg2_free(cnie_lds_dg2 **dg2)
{
	if (dg2 == NULL || *dg2 == NULL)
		return;
	cnie_freezero((*dg2)->image, (*dg2)->image_len);
	cnie_freezero(*dg2, sizeof(**dg2));
	*dg2 = NULL;
}

/* ---- DG11 ------------------------------------------------------------ */

/* The tag list (5C) must be well formed: a concatenation of tags. */
static int
tag_list(const cnie_tlv *t)
{
	cnie_cur c;
	uint8_t b;

	if (t->constructed)
		return CNIE_ERR_ENCODING;
	cnie_cur_init(&c, t->value, t->len);
	while (cnie_cur_left(&c) > 0) {
		cnie_cur_u8(&c, &b);
		if ((b & 0x1F) == 0x1F) {
			/* Two-byte tags: 5Fxx / 7Fxx, one subsequent byte. */
			if (cnie_cur_u8(&c, &b) != 0 || (b & 0x80) != 0)
				return CNIE_ERR_ENCODING;
		}
	}
	return 0;
}

/*
 * DG11 and DG12 are one shape: a template of optional text elements, each
 * at most once, one of them a list (A0 { 02 count, items } or bare items).
 * A table per DG says where each tag goes; one parser and one free serve
 * both.
 */
enum text_kind { TEXT_PLAIN, TEXT_DATE, TEXT_LIST };

struct text_field {
	uint32_t tag;
	enum text_kind kind;
	size_t at;	/* offsetof the char * (PLAIN, DATE) or the char ** (LIST) */
	size_t n_at;	/* LIST: offsetof the count */
};

struct text_dg {
	uint32_t tag;	/* the template: 6B, 6C */
	size_t size;	/* the result struct */
	const struct text_field *f;
	size_t nf;
};

#define TEXT(tag, type, field) { tag, TEXT_PLAIN, offsetof(type, field), 0 }
#define DATE(tag, type, field) { tag, TEXT_DATE, offsetof(type, field), 0 }
#define LIST(tag, type, field, n) { tag, TEXT_LIST, offsetof(type, field), offsetof(type, n) }

/* 9303-10 4.7.11. */
static const struct text_field dg11_fields[] = {
	TEXT(0x5F0E, cnie_lds_dg11, full_name),
	LIST(0x5F0F, cnie_lds_dg11, other_names, n_other_names),
	TEXT(0x5F10, cnie_lds_dg11, personal_number),
	DATE(0x5F2B, cnie_lds_dg11, full_birth_date),
	TEXT(0x5F11, cnie_lds_dg11, place_of_birth),
	TEXT(0x5F42, cnie_lds_dg11, address),
	TEXT(0x5F12, cnie_lds_dg11, telephone),
	TEXT(0x5F13, cnie_lds_dg11, profession),
	TEXT(0x5F14, cnie_lds_dg11, title),
	TEXT(0x5F15, cnie_lds_dg11, personal_summary),
	TEXT(0x5F16, cnie_lds_dg11, proof_of_citizenship),
	TEXT(0x5F17, cnie_lds_dg11, other_travel_docs),
	TEXT(0x5F18, cnie_lds_dg11, custody_info),
};
static const struct text_dg dg11 = { 0x6B, sizeof(cnie_lds_dg11), dg11_fields,
	sizeof(dg11_fields) / sizeof(dg11_fields[0]) };

/* 9303-10 4.7.12; 5F1D/5F1E (images) are skipped. */
static const struct text_field dg12_fields[] = {
	TEXT(0x5F19, cnie_lds_dg12, issuing_authority),
	DATE(0x5F26, cnie_lds_dg12, date_of_issue),
	LIST(0x5F1A, cnie_lds_dg12, other_persons, n_other_persons),
	TEXT(0x5F1B, cnie_lds_dg12, endorsements),
	TEXT(0x5F1C, cnie_lds_dg12, tax_exit),
	TEXT(0x5F55, cnie_lds_dg12, personalisation_time),
	TEXT(0x5F56, cnie_lds_dg12, personaliser_serial),
};
static const struct text_dg dg12 = { 0x6C, sizeof(cnie_lds_dg12), dg12_fields,
	sizeof(dg12_fields) / sizeof(dg12_fields[0]) };

#undef TEXT
#undef DATE
#undef LIST

static char **
text_at(uint8_t *d, size_t at)
{
	return (char **)(void *)(d + at);
}

/* One element of the template into d. */
static int
text_element(const struct text_dg *dg, uint8_t *d, const cnie_tlv *t)
{
	const struct text_field *f;
	size_t i;

	if (t->tag == 0x5C)
		return tag_list(t);
	for (i = 0; i < dg->nf; i++) {
		f = &dg->f[i];
		if (f->kind == TEXT_LIST && t->tag == 0xA0)
			return t->constructed ? parse_list(t, f->tag, (char ***)(void *)(d + f->at),
			    (size_t *)(void *)(d + f->n_at)) : CNIE_ERR_ENCODING;
		if (t->tag != f->tag)
			continue;
		switch (f->kind) {
		case TEXT_PLAIN:
			return dup_text(t, text_at(d, f->at));
		case TEXT_DATE:
			return dup_date(t, text_at(d, f->at));
		case TEXT_LIST:
			return list_add((char ***)(void *)(d + f->at),
			    (size_t *)(void *)(d + f->n_at), t);
		}
	}
	return 0; /* later LDS versions */
}

static void *
text_dg_free(const struct text_dg *dg, void *p)
{
	uint8_t *d = p;
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < dg->nf; i++) {
		if (dg->f[i].kind == TEXT_LIST)
			free_list((char ***)(void *)(d + dg->f[i].at),
			    (size_t *)(void *)(d + dg->f[i].n_at));
		else
			free_text(text_at(d, dg->f[i].at));
	}
	cnie_freezero(d, dg->size);
	return NULL;
}

/* The parsed DG, or NULL with *r the error. */
static void *
text_dg_parse(const struct text_dg *dg, const uint8_t *p, size_t n, int *r)
{
	uint8_t *d;
	cnie_cur c;
	cnie_tlv e, t;

	if ((*r = outer(p, n, dg->tag, 3, &e)) != 0)
		return NULL;
	if ((d = calloc(1, dg->size)) == NULL) {
		*r = CNIE_ERR_NOMEM;
		return NULL;
	}
	cnie_cur_init(&c, e.value, e.len);
	while (cnie_cur_left(&c) > 0) {
		if ((*r = cnie_tlv_next(&c, &t)) != 0 || (*r = text_element(dg, d, &t)) != 0)
			return text_dg_free(dg, d);
	}
	return d;
}

int
cnie_lds_dg11_parse(const uint8_t *p, size_t n, cnie_lds_dg11 **out)
{
	int r = CNIE_ERR_INVALID_ARG;

	if (out != NULL)
		*out = text_dg_parse(&dg11, p, n, &r);
	return r;
}

void
cnie_lds_dg11_free(cnie_lds_dg11 **d)
{
	if (d != NULL)
		*d = text_dg_free(&dg11, *d);
}

/* ---- DG12 ------------------------------------------------------------ */

int
cnie_lds_dg12_parse(const uint8_t *p, size_t n, cnie_lds_dg12 **out)
{
	int r = CNIE_ERR_INVALID_ARG;

	if (out != NULL)
		*out = text_dg_parse(&dg12, p, n, &r);
	return r;
}

void
cnie_lds_dg12_free(cnie_lds_dg12 **d)
{
	if (d != NULL)
		*d = text_dg_free(&dg12, *d);
}

/* ---- DG14: SecurityInfos (9303-10 4.7.14; lds_internal.h) ------------ */

int
cnie_lds_dg14_open(const uint8_t *p, size_t n, cnie_cur *set)
{
	cnie_tlv dg, st;
	int r;

	if ((r = cnie_tlv_parse_one(p, n, &dg)) != 0)
		return r;
	if (dg.tag != 0x6E || (r = cnie_tlv_parse_one(dg.value, dg.len, &st)) != 0)
		return r != 0 ? r : CNIE_ERR_ENCODING;
	if (st.tag != 0x31)
		return CNIE_ERR_ENCODING;
	cnie_cur_init(set, st.value, st.len);
	return 0;
}

int
cnie_lds_security_info_next(cnie_cur *set, cnie_tlv *oid, cnie_cur *body)
{
	cnie_tlv seq;
	int r;

	if (cnie_cur_left(set) == 0)
		return CNIE_ERR_NOT_FOUND;
	if ((r = cnie_tlv_next(set, &seq)) != 0)
		return r;
	if (seq.tag != 0x30)
		return CNIE_ERR_ENCODING;
	cnie_cur_init(body, seq.value, seq.len);
	if ((r = cnie_tlv_next(body, oid)) != 0)
		return r;
	return oid->tag == 0x06 ? 0 : CNIE_ERR_ENCODING;
}

/* ---- DG14: ActiveAuthenticationInfo (9303-11 9.2.9) ------------------ */

/* 2.23.136.1.1.5 id-icao-mrtd-security-aaProtocolObject. */
static const uint8_t oid_aa_protocol[] = { 0x67, 0x81, 0x08, 0x01, 0x01, 0x05 };
/* 0.4.0.127.0.7.1.1.4.1 ecdsa-plain-signatures (BSI TR-03111 5.2.1), last arc the hash. */
static const uint8_t oid_ecdsa_plain[] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x01, 0x01, 0x04,
	0x01 };

int
cnie_lds_dg14_aa_hash(const uint8_t *p, size_t n, cnie_card_hash *out)
{
	static const cnie_card_hash by_arc[] = { CNIE_CARD_HASH_NONE, CNIE_CARD_HASH_SHA1,
		CNIE_CARD_HASH_SHA224, CNIE_CARD_HASH_SHA256, CNIE_CARD_HASH_SHA384,
		CNIE_CARD_HASH_SHA512 };
	cnie_tlv oid, t;
	cnie_cur c, s;
	int r;

	if ((p == NULL && n > 0) || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = CNIE_CARD_HASH_NONE;
	if ((r = cnie_lds_dg14_open(p, n, &c)) != 0)
		return r;
	while ((r = cnie_lds_security_info_next(&c, &oid, &s)) == 0) {
		if (oid.len != sizeof(oid_aa_protocol) ||
		    memcmp(oid.value, oid_aa_protocol, sizeof(oid_aa_protocol)) != 0)
			continue;
		/* version INTEGER (1), signatureAlgorithm OBJECT IDENTIFIER, nothing else. */
		if ((r = cnie_tlv_next(&s, &t)) != 0)
			return r;
		if (t.tag != 0x02 || t.len != 1)
			return CNIE_ERR_ENCODING;
		if (t.value[0] != 1)
			return CNIE_ERR_UNSUPPORTED;
		if ((r = cnie_tlv_next(&s, &t)) != 0 || (r = cnie_cur_end(&s)) != 0)
			return r;
		if (t.tag != 0x06)
			return CNIE_ERR_ENCODING;
		if (t.len != sizeof(oid_ecdsa_plain) + 1 ||
		    memcmp(t.value, oid_ecdsa_plain, sizeof(oid_ecdsa_plain)) != 0 ||
		    t.value[t.len - 1] < 1 || t.value[t.len - 1] > 5)
			return CNIE_ERR_UNSUPPORTED;
		*out = by_arc[t.value[t.len - 1]];
		return 0;
	}
	return r;
}
