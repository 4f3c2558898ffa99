/*
 * PKCS#15 (ISO/IEC 7816-15) structure parsers: see src/libcnie/include/cnie/pkcs15.h.
 *
 * References: PKCS#15 v1.1 (RSA Laboratories, 2000) clause 6 and its ASN.1
 * module (Annex A), ISO/IEC 7816-15:2016 clause 8, ISO/IEC 7816-4:2013
 * clauses 6.3 (BER-TLV, padding) and 8.2.1.1 (EF.DIR), ITU-T X.690 (BER).
 *
 * Every file is walked object by object; each object is first checked as a
 * whole (well-formed TLVs down to CNIE_P15_MAX_DEPTH levels), then its
 * fields are decoded with a table of expected fields in the ASN.1 order
 * (struct field): an element matches the first expected field at or after
 * the current one with its tag, the fields passed over are absent (an error
 * if mandatory), and an element matching none is an extension and skipped.
 * That keeps positional fields of the same type (minLength, storedLength,
 * maxLength; usage and accessFlags) in their places while tolerating
 * fields this code does not know.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/pkcs15.h>
#include <cnie/tlv.h>

/* Universal and context tags used below (X.690 8.1.2; PKCS#15 Annex A). */
#define T_BOOLEAN 0x01
#define T_INTEGER 0x02
#define T_BIT_STRING 0x03
#define T_OCTET_STRING 0x04
#define T_ENUMERATED 0x0A
#define T_UTF8_STRING 0x0C
#define T_GENERALIZED_TIME 0x18
#define T_SEQUENCE 0x30
#define T_CTX0 0x80
#define T_CTX0_CONS 0xA0
#define T_CTX1_CONS 0xA1

/* ISO/IEC 7816-4 8.2.1.1: application template and its data objects. */
#define T_APP_TEMPLATE 0x61
#define T_APP_AID 0x4F
#define T_APP_LABEL 0x50
#define T_APP_PATH 0x51
#define T_APP_DDO 0x73

struct field {
	uint32_t tag;
	bool required;
	bool present; /* out */
	cnie_tlv tlv; /* out: valid when present */
};

/*
 * Matches the elements of the constructed value of seq against f[0..nf),
 * in order (see the comment at the top of the file).
 */
static int
decode_fields(const cnie_tlv *seq, struct field *f, size_t nf)
{
	cnie_cur c;
	cnie_tlv t;
	size_t j = 0, k;
	int r;

	cnie_cur_init(&c, seq->value, seq->len);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_tlv_next(&c, &t)) != 0)
			return r;
		for (k = j; k < nf && f[k].tag != t.tag; k++)
			;
		if (k == nf)
			continue; /* unknown or repeated: an extension */
		for (; j < k; j++) {
			if (f[j].required)
				return CNIE_ERR_ENCODING;
		}
		f[k].tlv = t;
		f[k].present = true;
		j = k + 1;
	}
	for (; j < nf; j++) {
		if (f[j].required)
			return CNIE_ERR_ENCODING;
	}
	return 0;
}

/*
 * The single object inside an explicitly tagged value such as
 * typeAttributes [1]: it must be a SEQUENCE and fill the value.
 */
static int
inner_sequence(const cnie_tlv *outer, cnie_tlv *inner)
{
	int r;

	if ((r = cnie_tlv_parse_one(outer->value, outer->len, inner)) != 0)
		return r;
	return inner->tag == T_SEQUENCE ? 0 : CNIE_ERR_ENCODING;
}

/*
 * INTEGER or ENUMERATED into a uint32_t.  X.690 8.3.2 asks for the minimal
 * two's complement form in BER too; negative values have no meaning in
 * these files.  With byte_ref, a single byte 80..FF is read unsigned:
 * some cards write key and PIN references (0x81) that way, and OpenSC
 * accepts it.
 */
static int
get_uint(const cnie_tlv *t, bool byte_ref, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (t->len == 0)
		return CNIE_ERR_ENCODING;
	if (byte_ref && t->len == 1) {
		*out = t->value[0];
		return 0;
	}
	if ((t->value[0] & 0x80) != 0)
		return CNIE_ERR_ENCODING;
	if (t->len > 1 && t->value[0] == 0x00 && (t->value[1] & 0x80) == 0)
		return CNIE_ERR_ENCODING;
	if (t->len > 5 || (t->len == 5 && t->value[0] != 0x00))
		return CNIE_ERR_TOO_LONG;
	for (i = 0; i < t->len; i++)
		v = (v << 8) | t->value[i];
	*out = v;
	return 0;
}

/*
 * Named BIT STRING into a mask: named bit k (X.690 8.6.2.1: bit 8 of the
 * first content byte after the unused-bits count is bit 0) becomes 1u << k.
 * Unused bits are ignored (BER leaves their value to the sender, 8.6.2.3);
 * bits past 31 are flags this code does not know.
 */
static int
get_bits(const cnie_tlv *t, uint32_t *out)
{
	uint32_t v = 0;
	uint8_t unused, b;
	size_t i, nbytes;

	if (t->len == 0)
		return CNIE_ERR_ENCODING;
	unused = t->value[0];
	if (unused > 7 || (t->len == 1 && unused != 0))
		return CNIE_ERR_ENCODING;
	nbytes = t->len - 1;
	for (i = 0; i < nbytes && i < 4; i++) {
		b = t->value[1 + i];
		if (i == nbytes - 1)
			b = (uint8_t)(b & (0xFFu << unused));
		v |= (uint32_t)b << (24 - 8 * i);
	}
	/* Reverse: byte-order bit 31 is named bit 0. */
	*out = 0;
	for (i = 0; i < 32; i++) {
		if ((v & (0x80000000u >> i)) != 0)
			*out |= 1u << i;
	}
	return 0;
}

/* BOOLEAN: one byte; any non-zero value is TRUE in BER (X.690 8.2.2). */
static int
get_bool(const cnie_tlv *t, bool *out)
{
	if (t->len != 1)
		return CNIE_ERR_ENCODING;
	*out = t->value[0] != 0;
	return 0;
}

/* True when p[0..n) is UTF-8 (RFC 3629: no overlong forms, surrogates or NUL). */
static bool
utf8_ok(const uint8_t *p, size_t n)
{
	size_t i = 0, k, more;
	uint32_t cp, min;

	while (i < n) {
		uint8_t b = p[i++];

		if (b == 0x00)
			return false;
		if (b < 0x80)
			continue;
		if ((b & 0xE0) == 0xC0) {
			more = 1;
			cp = b & 0x1Fu;
			min = 0x80;
		} else if ((b & 0xF0) == 0xE0) {
			more = 2;
			cp = b & 0x0Fu;
			min = 0x800;
		} else if ((b & 0xF8) == 0xF0) {
			more = 3;
			cp = b & 0x07u;
			min = 0x10000;
		} else {
			return false;
		}
		if (more > n - i)
			return false;
		for (k = 0; k < more; k++, i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3Fu);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
	}
	return true;
}

/* A UTF-8 label into out[cap] (cap includes the NUL). */
static int
get_utf8(const cnie_tlv *t, char *out, size_t cap)
{
	if (t->len > cap - 1)
		return CNIE_ERR_TOO_LONG;
	if (!utf8_ok(t->value, t->len))
		return CNIE_ERR_ENCODING;
	if (t->len > 0)
		memcpy(out, t->value, t->len);
	out[t->len] = '\0';
	return 0;
}

/* Printable ASCII (a GeneralizedTime) into out[cap]. */
static int
get_ascii(const cnie_tlv *t, char *out, size_t cap)
{
	size_t i;

	if (t->len > cap - 1)
		return CNIE_ERR_TOO_LONG;
	for (i = 0; i < t->len; i++) {
		if (t->value[i] < 0x20 || t->value[i] > 0x7E)
			return CNIE_ERR_ENCODING;
		out[i] = (char)t->value[i];
	}
	out[t->len] = '\0';
	return 0;
}

static int
get_octets(const cnie_tlv *t, uint8_t *out, size_t cap, size_t *len)
{
	if (t->len > cap)
		return CNIE_ERR_TOO_LONG;
	if (t->len > 0)
		memcpy(out, t->value, t->len);
	*len = t->len;
	return 0;
}

/*
 * Path ::= SEQUENCE { path OCTET STRING, index INTEGER OPTIONAL,
 *   length [0] INTEGER OPTIONAL } with index and length both present or
 * both absent (PKCS#15 v1.1 6.1.7).  ISO/IEC 7816-15's aid is skipped as
 * an unknown field: every path here is absolute or relative to the DF.
 */
static int
get_path(const cnie_tlv *t, cnie_p15_path *out)
{
	struct field f[] = {
		{ T_OCTET_STRING, true, false, { 0 } },
		{ T_INTEGER, false, false, { 0 } },
		{ T_CTX0, false, false, { 0 } },
	};
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = decode_fields(t, f, 3)) != 0)
		return r;
	if (f[0].tlv.len == 0)
		return CNIE_ERR_ENCODING;
	if ((r = get_octets(&f[0].tlv, out->value, sizeof(out->value), &out->len)) != 0)
		return r;
	if (f[1].present != f[2].present)
		return CNIE_ERR_ENCODING;
	if (f[1].present) {
		if ((r = get_uint(&f[1].tlv, false, &out->index)) != 0 ||
		    (r = get_uint(&f[2].tlv, false, &out->length)) != 0)
			return r;
		out->has_range = true;
	}
	return 0;
}

/*
 * CommonObjectAttributes ::= SEQUENCE { label UTF8String OPTIONAL,
 *   flags CommonObjectFlags OPTIONAL, authId Identifier OPTIONAL, ... }
 */
static int
get_common(const cnie_tlv *t, cnie_p15_common *out)
{
	struct field f[] = {
		{ T_UTF8_STRING, false, false, { 0 } },
		{ T_BIT_STRING, false, false, { 0 } },
		{ T_OCTET_STRING, false, false, { 0 } },
	};
	int r;

	if ((r = decode_fields(t, f, 3)) != 0)
		return r;
	if (f[0].present && (r = get_utf8(&f[0].tlv, out->label, sizeof(out->label))) != 0)
		return r;
	if (f[1].present && (r = get_bits(&f[1].tlv, &out->flags)) != 0)
		return r;
	if (f[2].present && (r = get_octets(&f[2].tlv, out->auth_id, sizeof(out->auth_id),
	    &out->auth_id_len)) != 0)
		return r;
	return 0;
}

typedef int (*object_fn)(const cnie_tlv *t, void *arg);

/*
 * Calls fn on every top-level object of p[0..n).  '00' and 'FF' bytes
 * between and after objects are padding (ISO/IEC 7816-4 6.3: erased or
 * unused space of a transparent EF).  Each object is validated whole
 * first, so a nesting bomb or a malformed skipped field is refused before
 * any field is read.
 */
static int
each_object(const uint8_t *p, size_t n, object_fn fn, void *arg)
{
	const uint8_t *start;
	size_t count = 0;
	cnie_cur c;
	cnie_tlv t;
	int r;

	if (p == NULL && n != 0)
		return CNIE_ERR_INVALID_ARG;
	cnie_cur_init(&c, p, n);
	while (cnie_cur_left(&c) > 0) {
		start = cnie_cur_peek(&c);
		if (*start == 0x00 || *start == 0xFF) {
			(void)cnie_cur_skip(&c, 1);
			continue;
		}
		if ((r = cnie_tlv_next(&c, &t)) != 0)
			return r;
		if (++count > CNIE_P15_MAX_OBJECTS)
			return CNIE_ERR_TOO_LONG;
		if ((r = cnie_tlv_validate(start, t.hdr_len + t.len, CNIE_P15_MAX_DEPTH)) != 0)
			return r;
		if ((r = fn(&t, arg)) != 0)
			return r;
	}
	return 0;
}

/* ---- EF.DIR ----------------------------------------------------------- */

static int
dir_object(const cnie_tlv *t, void *arg)
{
	cnie_p15_dir *dir = arg;
	cnie_p15_app *app;
	bool have_aid = false, have_label = false, have_path = false;
	cnie_cur c;
	cnie_tlv e;
	int r;

	/* Other objects may sit in EF.DIR (7816-4 8.2.1.1); only templates matter. */
	if (t->tag != T_APP_TEMPLATE)
		return 0;
	app = &dir->apps[dir->count];
	memset(app, 0, sizeof(*app));
	/* A template is a set of data objects in any order; repeats are refused. */
	cnie_cur_init(&c, t->value, t->len);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_tlv_next(&c, &e)) != 0)
			return r;
		switch (e.tag) {
		case T_APP_AID:
			if (have_aid || e.len == 0)
				return CNIE_ERR_ENCODING;
			if ((r = get_octets(&e, app->aid, sizeof(app->aid), &app->aid_len)) != 0)
				return r;
			have_aid = true;
			break;
		case T_APP_LABEL:
			if (have_label)
				return CNIE_ERR_ENCODING;
			if ((r = get_utf8(&e, app->label, sizeof(app->label))) != 0)
				return r;
			have_label = true;
			break;
		case T_APP_PATH:
			if (have_path || e.len == 0)
				return CNIE_ERR_ENCODING;
			if ((r = get_octets(&e, app->path, sizeof(app->path), &app->path_len)) != 0)
				return r;
			have_path = true;
			break;
		case T_APP_DDO:
			app->has_ddo = true;
			break;
		default:
			break;
		}
	}
	if (!have_aid)
		return CNIE_ERR_ENCODING;
	dir->count++;
	return 0;
}

int
cnie_p15_dir_parse(const uint8_t *p, size_t n, cnie_p15_dir **out)
{
	cnie_p15_dir *dir = NULL;
	int r;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((dir = calloc(1, sizeof(*dir))) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = each_object(p, n, dir_object, dir)) != 0)
		goto out;
	*out = dir;
	dir = NULL;
out:
	cnie_p15_dir_free(&dir);
	return r;
}

void
cnie_p15_dir_free(cnie_p15_dir **dir)
{
	if (dir == NULL || *dir == NULL)
		return;
	free(*dir);
	*dir = NULL;
}

int
cnie_p15_dir_find(const cnie_p15_dir *dir, const uint8_t *aid, size_t aid_len,
    const cnie_p15_app **app)
{
	size_t i;

	if (dir == NULL || aid == NULL || app == NULL)
		return CNIE_ERR_INVALID_ARG;
	*app = NULL;
	for (i = 0; i < dir->count; i++) {
		if (dir->apps[i].aid_len == aid_len &&
		    memcmp(dir->apps[i].aid, aid, aid_len) == 0) {
			*app = &dir->apps[i];
			return 0;
		}
	}
	return CNIE_ERR_NOT_FOUND;
}

/* ---- ODF -------------------------------------------------------------- */

/*
 * PKCS15Objects ::= CHOICE { privateKeys [0] PrivateKeys, ... authObjects
 * [8] AuthObjects, ... }, each a PathOrObjects: a CHOICE of path Path,
 * objects [0], indirect-protected [1], direct-protected [2].
 */
static int
odf_object(const cnie_tlv *t, void *arg)
{
	cnie_p15_odf *odf = arg;
	cnie_p15_odf_entry *e;
	cnie_tlv inner;
	int r;

	if (t->cls != CNIE_TLV_CLASS_CONTEXT || !t->constructed ||
	    t->tag < T_CTX0_CONS || t->tag > (T_CTX0_CONS | CNIE_P15_AODF))
		return 0;
	if ((r = cnie_tlv_parse_one(t->value, t->len, &inner)) != 0)
		return r;
	if (inner.tag != T_SEQUENCE)
		return 0;
	e = &odf->entries[odf->count];
	e->type = (cnie_p15_df_type)(t->tag - T_CTX0_CONS);
	if ((r = get_path(&inner, &e->path)) != 0)
		return r;
	odf->count++;
	return 0;
}

int
cnie_p15_odf_parse(const uint8_t *p, size_t n, cnie_p15_odf **out)
{
	cnie_p15_odf *odf = NULL;
	int r;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((odf = calloc(1, sizeof(*odf))) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = each_object(p, n, odf_object, odf)) != 0)
		goto out;
	*out = odf;
	odf = NULL;
out:
	cnie_p15_odf_free(&odf);
	return r;
}

void
cnie_p15_odf_free(cnie_p15_odf **odf)
{
	if (odf == NULL || *odf == NULL)
		return;
	free(*odf);
	*odf = NULL;
}

int
cnie_p15_odf_find(const cnie_p15_odf *odf, cnie_p15_df_type type, size_t which,
    const cnie_p15_path **path)
{
	size_t i;

	if (odf == NULL || path == NULL)
		return CNIE_ERR_INVALID_ARG;
	*path = NULL;
	for (i = 0; i < odf->count; i++) {
		if (odf->entries[i].type != type)
			continue;
		if (which-- == 0) {
			*path = &odf->entries[i].path;
			return 0;
		}
	}
	return CNIE_ERR_NOT_FOUND;
}

/* ---- TokenInfo -------------------------------------------------------- */

struct ti_ctx {
	cnie_p15_tokeninfo *ti;
	bool seen;
};

/*
 * TokenInfo ::= SEQUENCE { version INTEGER, serialNumber OCTET STRING,
 *   manufacturerID Label OPTIONAL, label [0] Label OPTIONAL,
 *   tokenflags TokenFlags, ... }.  OpenSC treats serialNumber as optional;
 * so do we (serial "").
 */
static int
ti_object(const cnie_tlv *t, void *arg)
{
	static const char hex[] = "0123456789ABCDEF";
	struct ti_ctx *ctx = arg;
	cnie_p15_tokeninfo *ti = ctx->ti;
	struct field f[] = {
		{ T_INTEGER, true, false, { 0 } },
		{ T_OCTET_STRING, false, false, { 0 } },
		{ T_UTF8_STRING, false, false, { 0 } },
		{ T_CTX0, false, false, { 0 } },
		{ T_BIT_STRING, true, false, { 0 } },
	};
	size_t i;
	int r;

	if (ctx->seen)
		return CNIE_ERR_TRAILING;
	ctx->seen = true;
	if (t->tag != T_SEQUENCE)
		return CNIE_ERR_ENCODING;
	if ((r = decode_fields(t, f, 5)) != 0)
		return r;
	if ((r = get_uint(&f[0].tlv, false, &ti->version)) != 0)
		return r;
	if (f[1].present) {
		if (f[1].tlv.len > CNIE_P15_MAX_SERIAL)
			return CNIE_ERR_TOO_LONG;
		for (i = 0; i < f[1].tlv.len; i++) {
			ti->serial[2 * i] = hex[f[1].tlv.value[i] >> 4];
			ti->serial[2 * i + 1] = hex[f[1].tlv.value[i] & 0x0F];
		}
		ti->serial[2 * f[1].tlv.len] = '\0';
	}
	if (f[2].present && (r = get_utf8(&f[2].tlv, ti->manufacturer,
	    sizeof(ti->manufacturer))) != 0)
		return r;
	if (f[3].present && (r = get_utf8(&f[3].tlv, ti->label, sizeof(ti->label))) != 0)
		return r;
	return get_bits(&f[4].tlv, &ti->flags);
}

int
cnie_p15_tokeninfo_parse(const uint8_t *p, size_t n, cnie_p15_tokeninfo **out)
{
	struct ti_ctx ctx = { NULL, false };
	int r;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((ctx.ti = calloc(1, sizeof(*ctx.ti))) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = each_object(p, n, ti_object, &ctx)) != 0)
		goto out;
	if (!ctx.seen) {
		r = CNIE_ERR_TRUNCATED; /* empty or padding only */
		goto out;
	}
	*out = ctx.ti;
	ctx.ti = NULL;
out:
	cnie_p15_tokeninfo_free(&ctx.ti);
	return r;
}

void
cnie_p15_tokeninfo_free(cnie_p15_tokeninfo **ti)
{
	if (ti == NULL || *ti == NULL)
		return;
	free(*ti);
	*ti = NULL;
}

/* ---- directory files: AODF, PrKDF, CDF -------------------------------- */

/*
 * The three directory files have one shape (PKCS#15 v1.1 6.4-6.7, ISO/IEC
 * 7816-15 8.4-8.8): a list of objects, each a CHOICE whose alternatives
 * are PKCS15Object ::= SEQUENCE { commonObjectAttributes
 *   CommonObjectAttributes, classAttributes ClassAttributes,
 *   subClassAttributes [0] OPTIONAL, typeAttributes [1] { SEQUENCE } }.
 * What differs is in the table below: which CHOICE tags are kept, how one
 * entry is stored, how its class and type attributes decode and what it
 * owns.  One walker, one free and one find serve all three.
 */
struct df_kind {
	uint32_t tags[2];	/* the CHOICE alternatives kept (0: none); others skipped */
	size_t size;		/* the file struct */
	size_t count;		/* offsetof its count */
	size_t items;		/* offsetof its entries */
	size_t item_size;
	size_t common;		/* offsetof an entry's cnie_p15_common */
	size_t id, id_len;	/* offsetof an entry's identifier, for find */
	/* ClassAttributes, then the SEQUENCE inside typeAttributes [1]. */
	int (*class_attrs)(const cnie_tlv *t, uint32_t choice, void *item);
	int (*type_attrs)(const cnie_tlv *t, void *item);
	void (*clear)(void *item); /* frees what an entry owns; NULL: nothing */
};

struct df_walk {
	const struct df_kind *k;
	uint8_t *file;
};

/* The count of a file struct (read through memcpy: the struct is typed). */
static size_t
df_count(const struct df_kind *k, const void *file)
{
	size_t n;

	memcpy(&n, (const uint8_t *)file + k->count, sizeof(n));
	return n;
}

static const uint8_t *
df_item(const struct df_kind *k, const void *file, size_t i)
{
	return (const uint8_t *)file + k->items + i * k->item_size;
}

static int
df_object(const cnie_tlv *t, void *arg)
{
	const struct df_walk *w = arg;
	const struct df_kind *k = w->k;
	size_t count = df_count(k, w->file);
	uint8_t *item;
	struct field f[] = {
		{ T_SEQUENCE, true, false, { 0 } },
		{ T_SEQUENCE, true, false, { 0 } },
		{ T_CTX0_CONS, false, false, { 0 } },
		{ T_CTX1_CONS, true, false, { 0 } },
	};
	cnie_tlv type;
	int r;

	if (t->tag != k->tags[0] && (k->tags[1] == 0 || t->tag != k->tags[1]))
		return 0;
	/* each_object stops at CNIE_P15_MAX_OBJECTS: *count stays below it. */
	item = w->file + k->items + count * k->item_size;
	memset(item, 0, k->item_size);
	if ((r = decode_fields(t, f, 4)) != 0 ||
	    (r = get_common(&f[0].tlv, (cnie_p15_common *)(void *)(item + k->common))) != 0 ||
	    (r = k->class_attrs(&f[1].tlv, t->tag, item)) != 0 ||
	    (r = inner_sequence(&f[3].tlv, &type)) != 0 ||
	    (r = k->type_attrs(&type, item)) != 0)
		return r;
	count++;
	memcpy(w->file + k->count, &count, sizeof(count));
	return 0;
}

static void *
df_free(const struct df_kind *k, void *file)
{
	size_t i, n;

	if (file == NULL)
		return NULL;
	/* count + 1: the entry being decoded when an error stopped the walk. */
	n = df_count(k, file);
	for (i = 0; k->clear != NULL && i <= n && i < CNIE_P15_MAX_OBJECTS; i++)
		k->clear((uint8_t *)file + k->items + i * k->item_size);
	free(file);
	return NULL;
}

/* The parsed file, or NULL with *r the error. */
static void *
df_parse(const struct df_kind *k, const uint8_t *p, size_t n, int *r)
{
	struct df_walk w = { k, NULL };

	if ((w.file = calloc(1, k->size)) == NULL) {
		*r = CNIE_ERR_NOMEM;
		return NULL;
	}
	if ((*r = each_object(p, n, df_object, &w)) != 0)
		return df_free(k, w.file);
	return w.file;
}

/* The entry whose identifier is id[0..id_len), or NULL with *r the error. */
static const void *
df_find(const struct df_kind *k, const void *file, const uint8_t *id, size_t id_len, int *r)
{
	const uint8_t *e;
	size_t i, n, len;

	*r = CNIE_ERR_INVALID_ARG;
	if (file == NULL || (id == NULL && id_len != 0))
		return NULL;
	n = df_count(k, file);
	for (i = 0; i < n; i++) {
		e = df_item(k, file, i);
		memcpy(&len, e + k->id_len, sizeof(len));
		if (len == id_len && (id_len == 0 || memcmp(e + k->id, id, id_len) == 0)) {
			*r = 0;
			return e;
		}
	}
	*r = CNIE_ERR_NOT_FOUND;
	return NULL;
}

/* ---- AODF ------------------------------------------------------------- */

/*
 * PinAttributes ::= SEQUENCE { pinFlags PinFlags, pinType PinType,
 *   minLength INTEGER, storedLength INTEGER, maxLength INTEGER OPTIONAL,
 *   pinReference [0] Reference DEFAULT 0, padChar OCTET STRING (SIZE(1))
 *   OPTIONAL, lastPinChange GeneralizedTime OPTIONAL, path Path OPTIONAL,
 *   ... }
 */
static int
pin_attributes(const cnie_tlv *t, void *item)
{
	cnie_p15_pin *pin = item;
	struct field f[] = {
		{ T_BIT_STRING, true, false, { 0 } },
		{ T_ENUMERATED, true, false, { 0 } },
		{ T_INTEGER, true, false, { 0 } },
		{ T_INTEGER, true, false, { 0 } },
		{ T_INTEGER, false, false, { 0 } },
		{ T_CTX0, false, false, { 0 } },
		{ T_OCTET_STRING, false, false, { 0 } },
		{ T_GENERALIZED_TIME, false, false, { 0 } },
		{ T_SEQUENCE, false, false, { 0 } },
	};
	int r;

	if ((r = decode_fields(t, f, 9)) != 0)
		return r;
	if ((r = get_bits(&f[0].tlv, &pin->flags)) != 0 ||
	    (r = get_uint(&f[1].tlv, false, &pin->type)) != 0 ||
	    (r = get_uint(&f[2].tlv, false, &pin->min_len)) != 0 ||
	    (r = get_uint(&f[3].tlv, false, &pin->stored_len)) != 0)
		return r;
	if (f[4].present) {
		if ((r = get_uint(&f[4].tlv, false, &pin->max_len)) != 0)
			return r;
		pin->has_max_len = true;
	}
	if (f[5].present && (r = get_uint(&f[5].tlv, true, &pin->reference)) != 0)
		return r;
	if (f[6].present) {
		if (f[6].tlv.len != 1)
			return CNIE_ERR_ENCODING;
		pin->pad_char = f[6].tlv.value[0];
		pin->has_pad_char = true;
	}
	if (f[7].present && (r = get_ascii(&f[7].tlv, pin->last_change,
	    sizeof(pin->last_change))) != 0)
		return r;
	if (f[8].present) {
		if ((r = get_path(&f[8].tlv, &pin->path)) != 0)
			return r;
		pin->has_path = true;
	}
	return 0;
}

/* CommonAuthenticationObjectAttributes ::= SEQUENCE { authId Identifier OPTIONAL, ... } */
static int
pin_class(const cnie_tlv *t, uint32_t choice, void *item)
{
	cnie_p15_pin *pin = item;
	struct field f[] = {
		{ T_OCTET_STRING, false, false, { 0 } },
	};
	int r;

	(void)choice;
	if ((r = decode_fields(t, f, 1)) != 0)
		return r;
	if (f[0].present)
		return get_octets(&f[0].tlv, pin->auth_id, sizeof(pin->auth_id), &pin->auth_id_len);
	return 0;
}

/*
 * AuthenticationType ::= CHOICE { pin AuthenticationObject {PinAttributes},
 *   biometricTemplate [0], authKey [1], external [2], ... }: only PINs
 * (the universal SEQUENCE) are kept.
 */
static const struct df_kind aodf_kind = {
	{ T_SEQUENCE, 0 }, sizeof(cnie_p15_aodf), offsetof(cnie_p15_aodf, count),
	offsetof(cnie_p15_aodf, pins), sizeof(cnie_p15_pin), offsetof(cnie_p15_pin, common),
	offsetof(cnie_p15_pin, auth_id), offsetof(cnie_p15_pin, auth_id_len),
	pin_class, pin_attributes, NULL,
};

int
cnie_p15_aodf_parse(const uint8_t *p, size_t n, cnie_p15_aodf **out)
{
	int r = CNIE_ERR_INVALID_ARG;

	if (out != NULL)
		*out = df_parse(&aodf_kind, p, n, &r);
	return r;
}

void
cnie_p15_aodf_free(cnie_p15_aodf **aodf)
{
	if (aodf != NULL)
		*aodf = df_free(&aodf_kind, *aodf);
}

int
cnie_p15_aodf_find(const cnie_p15_aodf *aodf, const uint8_t *id, size_t id_len,
    const cnie_p15_pin **pin)
{
	int r = CNIE_ERR_INVALID_ARG;

	if (pin != NULL)
		*pin = df_find(&aodf_kind, aodf, id, id_len, &r);
	return r;
}

/* ---- PrKDF ------------------------------------------------------------ */

/*
 * CommonKeyAttributes ::= SEQUENCE { iD Identifier, usage KeyUsageFlags,
 *   native BOOLEAN DEFAULT TRUE, accessFlags KeyAccessFlags OPTIONAL,
 *   keyReference Reference OPTIONAL, ... }.  PrivateKeyType ::= CHOICE {
 *   privateRSAKey PrivateKeyObject {PrivateRSAKeyAttributes}, privateECKey
 *   [0] ..., privateDHKey [1] ..., ... }: the CHOICE gives the key type.
 */
static int
key_attributes(const cnie_tlv *t, uint32_t choice, void *item)
{
	cnie_p15_prkey *key = item;
	struct field f[] = {
		{ T_OCTET_STRING, true, false, { 0 } },
		{ T_BIT_STRING, true, false, { 0 } },
		{ T_BOOLEAN, false, false, { 0 } },
		{ T_BIT_STRING, false, false, { 0 } },
		{ T_INTEGER, false, false, { 0 } },
	};
	int r;

	key->type = choice == T_SEQUENCE ? CNIE_P15_KEY_RSA : CNIE_P15_KEY_EC;
	if ((r = decode_fields(t, f, 5)) != 0)
		return r;
	if ((r = get_octets(&f[0].tlv, key->id, sizeof(key->id), &key->id_len)) != 0 ||
	    (r = get_bits(&f[1].tlv, &key->usage)) != 0)
		return r;
	key->native = true;
	if (f[2].present && (r = get_bool(&f[2].tlv, &key->native)) != 0)
		return r;
	if (f[3].present && (r = get_bits(&f[3].tlv, &key->access)) != 0)
		return r;
	if (f[4].present) {
		if ((r = get_uint(&f[4].tlv, true, &key->key_ref)) != 0)
			return r;
		key->has_key_ref = true;
	}
	return 0;
}

/*
 * PrivateRSAKeyAttributes ::= SEQUENCE { value ObjectValue, modulusLength
 *   INTEGER, keyInfo OPTIONAL, ... }; for EC, OpenSC reads SEQUENCE {
 * value, fieldSize INTEGER OPTIONAL, keyInfo OPTIONAL }.  A value that is
 * not a Path (URL, protected) leaves has_path false.
 */
static int
key_type_attributes(const cnie_tlv *t, void *item)
{
	cnie_p15_prkey *key = item;
	struct field f[] = {
		{ T_SEQUENCE, false, false, { 0 } },
		{ T_INTEGER, key->type == CNIE_P15_KEY_RSA, false, { 0 } },
	};
	int r;

	if ((r = decode_fields(t, f, 2)) != 0)
		return r;
	if (f[0].present) {
		if ((r = get_path(&f[0].tlv, &key->path)) != 0)
			return r;
		key->has_path = true;
	}
	if (f[1].present) {
		if ((r = get_uint(&f[1].tlv, false, key->type == CNIE_P15_KEY_RSA ?
		    &key->modulus_bits : &key->field_size)) != 0)
			return r;
	}
	return 0;
}

/* RSA (universal SEQUENCE) and EC ([0]) keys are kept; DH, DSA, KEA skipped. */
static const struct df_kind prkdf_kind = {
	{ T_SEQUENCE, T_CTX0_CONS }, sizeof(cnie_p15_prkdf), offsetof(cnie_p15_prkdf, count),
	offsetof(cnie_p15_prkdf, keys), sizeof(cnie_p15_prkey), offsetof(cnie_p15_prkey, common),
	offsetof(cnie_p15_prkey, id), offsetof(cnie_p15_prkey, id_len),
	key_attributes, key_type_attributes, NULL,
};

int
cnie_p15_prkdf_parse(const uint8_t *p, size_t n, cnie_p15_prkdf **out)
{
	int r = CNIE_ERR_INVALID_ARG;

	if (out != NULL)
		*out = df_parse(&prkdf_kind, p, n, &r);
	return r;
}

void
cnie_p15_prkdf_free(cnie_p15_prkdf **prkdf)
{
	if (prkdf != NULL)
		*prkdf = df_free(&prkdf_kind, *prkdf);
}

int
cnie_p15_prkdf_find(const cnie_p15_prkdf *prkdf, const uint8_t *id, size_t id_len,
    const cnie_p15_prkey **key)
{
	int r = CNIE_ERR_INVALID_ARG;

	if (key != NULL)
		*key = df_find(&prkdf_kind, prkdf, id, id_len, &r);
	return r;
}

/* ---- CDF -------------------------------------------------------------- */

/*
 * A direct certificate value [0]: explicitly tagged it holds one SEQUENCE
 * filling it; implicitly tagged it holds the SEQUENCE's contents (three
 * objects), so the two cannot be confused.  Either way the Certificate's
 * DER is rebuilt whole.
 */
static int
cert_direct(const cnie_tlv *t, cnie_p15_cert *cert)
{
	uint8_t hdr[6];
	size_t hlen, total;
	cnie_tlv inner;

	if (t->len == 0)
		return CNIE_ERR_ENCODING;
	if (cnie_tlv_parse_one(t->value, t->len, &inner) == 0 && inner.tag == T_SEQUENCE) {
		hlen = 0;
	} else {
		hdr[0] = T_SEQUENCE;
		if (t->len < 0x80) {
			hdr[1] = (uint8_t)t->len;
			hlen = 2;
		} else if (t->len <= 0xFF) {
			hdr[1] = 0x81;
			hdr[2] = (uint8_t)t->len;
			hlen = 3;
		} else if (t->len <= 0xFFFF) {
			hdr[1] = 0x82;
			hdr[2] = (uint8_t)(t->len >> 8);
			hdr[3] = (uint8_t)t->len;
			hlen = 4;
		} else {
			return CNIE_ERR_TOO_LONG;
		}
	}
	if (t->len > CNIE_P15_MAX_CERT - hlen)
		return CNIE_ERR_TOO_LONG;
	total = hlen + t->len;
	if ((cert->direct = malloc(total)) == NULL)
		return CNIE_ERR_NOMEM;
	if (hlen > 0)
		memcpy(cert->direct, hdr, hlen);
	memcpy(cert->direct + hlen, t->value, t->len);
	cert->direct_len = total;
	cert->kind = CNIE_P15_VALUE_DIRECT;
	return 0;
}

/* CommonCertificateAttributes ::= SEQUENCE { iD, authority BOOLEAN DEFAULT FALSE, ... } */
static int
cert_class(const cnie_tlv *t, uint32_t choice, void *item)
{
	cnie_p15_cert *cert = item;
	struct field f[] = {
		{ T_OCTET_STRING, true, false, { 0 } },
		{ T_BOOLEAN, false, false, { 0 } },
	};
	int r;

	(void)choice;
	if ((r = decode_fields(t, f, 2)) != 0 ||
	    (r = get_octets(&f[0].tlv, cert->id, sizeof(cert->id), &cert->id_len)) != 0)
		return r;
	if (f[1].present && (r = get_bool(&f[1].tlv, &cert->authority)) != 0)
		return r;
	return 0;
}

/*
 * X509CertificateAttributes ::= SEQUENCE { value ObjectValue, subject,
 *   issuer, serialNumber... } whose value is a Path, a URL or direct [0].
 */
static int
cert_type_attributes(const cnie_tlv *t, void *item)
{
	cnie_p15_cert *cert = item;
	cnie_tlv value;
	cnie_cur c;
	int r;

	cnie_cur_init(&c, t->value, t->len);
	if ((r = cnie_tlv_next(&c, &value)) != 0)
		return r; /* value is mandatory: empty attributes are TRUNCATED */
	if (value.tag == T_SEQUENCE) {
		if ((r = get_path(&value, &cert->path)) != 0)
			return r;
		cert->kind = CNIE_P15_VALUE_PATH;
	} else if (value.tag == T_CTX0_CONS) {
		if ((r = cert_direct(&value, cert)) != 0)
			return r;
	}
	return 0;
}

static void
cert_clear(void *item)
{
	cnie_p15_cert *cert = item;

	free(cert->direct);
	cert->direct = NULL;
}

/*
 * CertificateType ::= CHOICE { x509Certificate CertificateObject
 *   {X509CertificateAttributes}, x509AttributeCertificate [0], ... }: only
 * X.509 certificates (the universal SEQUENCE) are kept.
 */
static const struct df_kind cdf_kind = {
	{ T_SEQUENCE, 0 }, sizeof(cnie_p15_cdf), offsetof(cnie_p15_cdf, count),
	offsetof(cnie_p15_cdf, certs), sizeof(cnie_p15_cert), offsetof(cnie_p15_cert, common),
	offsetof(cnie_p15_cert, id), offsetof(cnie_p15_cert, id_len),
	cert_class, cert_type_attributes, cert_clear,
};

int
cnie_p15_cdf_parse(const uint8_t *p, size_t n, cnie_p15_cdf **out)
{
	int r = CNIE_ERR_INVALID_ARG;

	if (out != NULL)
		*out = df_parse(&cdf_kind, p, n, &r);
	return r;
}

void
cnie_p15_cdf_free(cnie_p15_cdf **cdf)
{
	if (cdf != NULL)
		*cdf = df_free(&cdf_kind, *cdf);
}

int
cnie_p15_cdf_find(const cnie_p15_cdf *cdf, const uint8_t *id, size_t id_len,
    const cnie_p15_cert **cert)
{
	int r = CNIE_ERR_INVALID_ARG;

	if (cert != NULL)
		*cert = df_find(&cdf_kind, cdf, id, id_len, &r);
	return r;
}
