/*
 * libFuzzer harness for the BER-TLV parser and builder (src/libcnie/tlv.c).
 *
 * Feeds the input to every parsing entry point and checks properties that
 * must hold for any input; abort() on a violation so the fuzzer reports it:
 *  - walk returns exactly what validate returns (it validates first), and
 *    every visited value lies inside the input, NULL exactly when empty;
 *  - the path of first children from the top (each the first of its tag
 *    among its siblings) leads cnie_tlv_find_path to that very object;
 *  - every object read by cnie_tlv_next re-encodes (DER length) into a
 *    TLV that parses back to the same tag and value;
 *  - input that is DER throughout re-encodes byte for byte with the
 *    builder (open/close for constructed objects), and validates.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/tlv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk_state {
	const uint8_t *data;
	size_t size;
	uint32_t path[CNIE_TLV_MAX_DEPTH]; /* tags of the first-child chain */
	size_t chain;			   /* its length */
	const uint8_t *chain_value;	   /* value of its last object */
	size_t chain_len;
	size_t last_depth;
	size_t visits;
};

/* Reports the broken property's line, then crashes for the fuzzer. */
#define check(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_tlv.c:%d: %s\n", __LINE__, #cond); \
			abort();                                               \
		}                                                              \
	} while (0)

static int
visit(const cnie_tlv *t, size_t depth, void *arg)
{
	struct walk_state *w = arg;
	uintptr_t v, lo = (uintptr_t)w->data;

	check(depth < CNIE_TLV_MAX_DEPTH);
	check(t->hdr_len >= 2 && t->hdr_len <= 4 + 5);
	check((t->value == NULL) == (t->len == 0));
	if (t->value != NULL) {
		v = (uintptr_t)t->value;
		check(v >= lo + t->hdr_len && v - lo <= w->size && t->len <= w->size - (v - lo));
	}
	/* A visit at depth d follows one at depth d - 1 (depth first). */
	check(depth == 0 || (w->visits > 0 && depth <= w->last_depth + 1));
	/* Preorder: the first visits descend through first children. */
	if (depth == w->visits && w->chain == w->visits) {
		w->path[depth] = t->tag;
		w->chain_value = t->value;
		w->chain_len = t->len;
		w->chain++;
	}
	w->last_depth = depth;
	w->visits++;
	return 0;
}

/* Re-encodes p[0..n) with the builder if it is DER throughout. */
static int
der_seq(const uint8_t *p, size_t n, size_t depth, cnie_buf *out)
{
	cnie_cur c;
	cnie_tlv t;
	size_t mark;
	int r;

	/* Same depth rule as cnie_tlv_validate. */
	if (n > 0 && depth >= CNIE_TLV_MAX_DEPTH)
		return CNIE_ERR_NESTING;
	cnie_cur_init(&c, p, n);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_tlv_next_der(&c, &t)) != 0)
			return r;
		if (t.constructed) {
			check(cnie_tlv_open(out, t.tag, &mark) == 0);
			if ((r = der_seq(t.value, t.len, depth + 1, out)) != 0)
				return r;
			check(cnie_tlv_close(out, mark) == 0);
		} else {
			check(cnie_tlv_put(out, t.tag, t.value, t.len) == 0);
		}
	}
	return 0;
}

/* Every object the lenient parser reads survives a builder round trip. */
static void
roundtrip_top_level(const uint8_t *data, size_t size, cnie_buf *b)
{
	cnie_cur c;
	cnie_tlv t, u;

	cnie_cur_init(&c, data, size);
	while (cnie_cur_left(&c) > 0) {
		if (cnie_tlv_next(&c, &t) != 0) {
			check(c.err != 0 && cnie_cur_left(&c) == 0);
			break;
		}
		cnie_buf_reset(b);
		check(cnie_tlv_put(b, t.tag, t.value, t.len) == 0);
		check(cnie_buf_len(b) <= t.hdr_len + t.len);
		check(cnie_tlv_parse_one(cnie_buf_ptr(b), cnie_buf_len(b), &u) == 0);
		check(u.tag == t.tag && u.len == t.len && u.cls == t.cls &&
		    u.constructed == t.constructed);
		check(t.len == 0 || memcmp(u.value, t.value, t.len) == 0);
		/* Found by tag among the top-level siblings. */
		check(cnie_tlv_find(data, size, t.tag, &u) == 0 && u.tag == t.tag);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct walk_state w;
	cnie_buf *b;
	cnie_tlv t;
	int rv, rw, rd;

	if ((b = cnie_buf_new()) == NULL)
		return 0;

	rv = cnie_tlv_validate(data, size, CNIE_TLV_MAX_DEPTH);
	memset(&w, 0, sizeof(w));
	w.data = data;
	w.size = size;
	rw = cnie_tlv_walk(data, size, CNIE_TLV_MAX_DEPTH, visit, &w);
	check(rw == rv);
	if (rw != 0)
		check(w.visits == 0);
	if (rw == 0 && w.chain > 0) {
		check(cnie_tlv_find_path(data, size, w.path, w.chain, &t) == 0);
		check(t.tag == w.path[w.chain - 1]);
		check(t.value == w.chain_value && t.len == w.chain_len);
	}

	(void)cnie_tlv_parse_one(data, size, &t);
	roundtrip_top_level(data, size, b);

	cnie_buf_reset(b);
	rd = der_seq(data, size, 0, b);
	if (rd == 0) {
		check(rv == 0);
		check(cnie_buf_len(b) == size);
		check(size == 0 || memcmp(cnie_buf_ptr(b), data, size) == 0);
	}
	cnie_buf_free(&b);
	return 0;
}
