/*
 * Internal to the project (src/libcnie/include: not installed, not exported
 * from libcnie.so; in-tree programs reach it through the cnie_internal target).
 *
 * BER-TLV (ISO/IEC 7816-4 clause 6.3, ITU-T X.690) parser and builder.
 *
 * Parser: tags of 1 to 4 bytes, lengths in short form or 0x81..0x84 long
 * form, indefinite length (0x80) and 0x85..0xFF refused, every length
 * checked against the bytes actually present, nesting limited by the
 * caller's depth (at most CNIE_TLV_MAX_DEPTH).  Values are borrowed from
 * the input.  A first tag byte 0x00 or 0xFF (padding between objects in
 * some ISO 7816-4 contexts) is NOT skipped: it is CNIE_ERR_ENCODING.
 * The DER variants also refuse non-minimal lengths and non-minimal tags
 * (long form for tag numbers 0..30, e.g. 5F01; leading 0x80 tag byte).
 *
 * Builder: appends to a cnie_buf with minimal (DER) lengths; constructed
 * objects are built with cnie_tlv_open()/cnie_tlv_close().
 */
#ifndef CNIE_TLV_H
#define CNIE_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/buf.h>
#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNIE_TLV_MAX_DEPTH 16

/* Class bits of the first tag byte. */
#define CNIE_TLV_CLASS_UNIVERSAL 0x00
#define CNIE_TLV_CLASS_APPLICATION 0x40
#define CNIE_TLV_CLASS_CONTEXT 0x80
#define CNIE_TLV_CLASS_PRIVATE 0xC0

typedef struct cnie_tlv {
	uint32_t tag;	      /* tag bytes as a big-endian number, e.g. 0x5F1F, 0x7F49 */
	uint8_t cls;	      /* CNIE_TLV_CLASS_* */
	bool constructed;     /* bit 6 of the first tag byte */
	const uint8_t *value; /* borrowed; NULL when len == 0 */
	size_t len;	      /* value length */
	size_t hdr_len;	      /* bytes of tag and length */
} cnie_tlv;

/*
 * Reads one TLV at the cursor and advances past it.  Errors:
 * CNIE_ERR_TRUNCATED (data ends inside the header, or the declared length
 * exceeds the bytes left), CNIE_ERR_ENCODING (tag longer than 4 bytes,
 * first tag byte 0x00 or 0xFF, indefinite or reserved length),
 * CNIE_ERR_INVALID_ARG (NULL argument).  The cursor is left failed on
 * error (a failed cursor returns its first error again); *out is zeroed.
 */
int cnie_tlv_next(cnie_cur *c, cnie_tlv *out);
/* As cnie_tlv_next, and also refuses non-minimal length or tag encodings. */
int cnie_tlv_next_der(cnie_cur *c, cnie_tlv *out);

/*
 * Parses exactly one TLV spanning all of p[0..n): trailing bytes give
 * CNIE_ERR_TRAILING.  Lenient (BER) like cnie_tlv_next.
 */
int cnie_tlv_parse_one(const uint8_t *p, size_t n, cnie_tlv *out);

/*
 * Checks that p[0..n) is a sequence of well-formed TLVs whose constructed
 * values are themselves well-formed, down to max_depth levels
 * (1..CNIE_TLV_MAX_DEPTH, else CNIE_ERR_INVALID_ARG): the top level is
 * level 1, so max_depth 1 allows only empty constructed values.  Deeper
 * nesting gives CNIE_ERR_NESTING.  Empty input is valid.  Primitive values
 * are not looked into.
 */
int cnie_tlv_validate(const uint8_t *p, size_t n, size_t max_depth);

/*
 * Finds the first TLV with the given tag among the siblings in p[0..n)
 * (one level, no descent).  CNIE_ERR_NOT_FOUND if absent; parse errors are
 * returned as they are met.  out may be NULL.
 */
int cnie_tlv_find(const uint8_t *p, size_t n, uint32_t tag, cnie_tlv *out);

/*
 * Follows a path of tags: the first path[0] among the siblings of p[0..n),
 * then the first path[1] inside its value, and so on (depth
 * 1..CNIE_TLV_MAX_DEPTH).  A primitive object in the middle of the path
 * gives CNIE_ERR_NOT_FOUND (its value is never parsed as TLVs).
 */
int cnie_tlv_find_path(const uint8_t *p, size_t n, const uint32_t *path,
    size_t depth, cnie_tlv *out);

/*
 * Visits every TLV depth first, calling cb(tlv, depth, arg) (depth 0 at the
 * top); a non-zero return from cb stops the walk and is returned.  The
 * input is validated first (as cnie_tlv_validate): malformed input gives
 * its error and no callback at all.
 */
typedef int (*cnie_tlv_visit_fn)(const cnie_tlv *t, size_t depth, void *arg);
int cnie_tlv_walk(const uint8_t *p, size_t n, size_t max_depth,
    cnie_tlv_visit_fn cb, void *arg);

/* ---- builder -------------------------------------------------------- */

/*
 * Appends a tag (1..4 bytes, given as in cnie_tlv.tag); a value that is not
 * a well-formed tag (0, 0xFF.., 0x1F without subsequent bytes, bit 8 wrong
 * in a subsequent byte) gives CNIE_ERR_INVALID_ARG.
 */
int cnie_tlv_put_tag(cnie_buf *b, uint32_t tag);
/* Appends a DER length (short form or 0x81..0x84); CNIE_ERR_TOO_LONG above 0xFFFFFFFF. */
int cnie_tlv_put_len(cnie_buf *b, size_t len);
/* Appends tag, length and value; on error b is left as it was. */
int cnie_tlv_put(cnie_buf *b, uint32_t tag, const void *value, size_t len);
/*
 * Appends a TLV whose value is a big-endian unsigned integer, minimal,
 * >= 1 byte (no sign byte: 0x80 is encoded 80, not 00 80 as an ASN.1 INTEGER).
 */
int cnie_tlv_put_uint(cnie_buf *b, uint32_t tag, uint32_t v);
/*
 * Starts a constructed TLV: writes the tag and remembers where its value
 * begins in *mark.  cnie_tlv_close() then inserts the minimal length before
 * everything appended since.  Opens may nest; close them innermost first.
 * cnie_tlv_close gives CNIE_ERR_TOO_LONG when the buffer's cap leaves no
 * room for the length (b unchanged).
 */
int cnie_tlv_open(cnie_buf *b, uint32_t tag, size_t *mark);
int cnie_tlv_close(cnie_buf *b, size_t mark);

/* Size of the length field for a value of len bytes (1..5; 0 above 0xFFFFFFFF). */
size_t cnie_tlv_len_size(size_t len);

#ifdef __cplusplus
}
#endif

#endif
