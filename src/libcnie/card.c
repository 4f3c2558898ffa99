/*
 * The CNIE PKI application (include/cnie/card.h): identification by the
 * applications, PKCS#15 discovery, PINs and signatures, following
 * docs/card-profile.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cnie/apdu.h>
#include <cnie/cache.h>
#include <cnie/card.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/pace.h>
#include <cnie/pkcs15.h>
#include <cnie/reader_pace.h>
#include <cnie/sm.h>
#include <cnie/tlv.h>

#include "hash_internal.h"

static const uint8_t pki_aid[] = { 0xF0, 0x43, 0x4E, 0x49, 0x45, 0x50, 0x4B, 0x49 };

#define CARD_PIN_REF 0x81      /* user PIN (card-profile.md 4) */
#define CARD_FILE_MAX 32767    /* READ BINARY offsets are 15 bits (7816-4 11.2.3) */
#define CARD_PIN_MAX 12	       /* longest reference data we pad to */

/* Algorithm references (DO 80, card-profile.md 3). */
#define ALG_RSA_PKCS1 0x02
#define ALG_ECDSA 0x04
#define ALG_RSA_PSS 0x05

typedef struct card_cert {
	uint8_t id[CNIE_CARD_MAX_ID];
	size_t id_len;
	uint8_t *der;
	size_t der_len;
	bool from_cache; /* checked against the first key operation's result */
} card_cert;

struct cnie_card {
	cnie_transport *t;	/* what commands go through (SM over inner after PACE) */
	cnie_transport *inner;	/* the reader's transport under PACE, else NULL */
	bool p15_loaded;
	cnie_p15_tokeninfo *ti;
	cnie_p15_aodf *aodf;
	cnie_p15_prkdf *prkdf;
	cnie_p15_cdf *cdf;
	card_cert certs[CNIE_P15_MAX_OBJECTS];
	size_t ncerts;
	/* On-disk cache (src/libcnie/include/cnie/cache.h): NULL when off or unusable. */
	uint8_t atr_check[CNIE_CACHE_CHECK_LEN]; /* SHA-256(ATR) prefix, 0 if none */
	cnie_cache *cache;
	bool cache_tried;
	bool ti_loaded;	  /* TokenInfo read (only serial/label need it) */
	bool contactless; /* opened with PACE: a reset needs cnie_card_resume */
	/*
	 * The reader runs PACE and keeps the secure messaging (PC/SC part 10
	 * amendment 1, caps->reader_pace): c->t stays the plain reader
	 * transport and inner is NULL, but the session is bound to the card's
	 * life like a PACE session of ours (a reset ends it).
	 */
	bool reader_pace;
	bool no_odd_read; /* the card refused READ BINARY B1 by FID: SELECT + B0 */
	/*
	 * Transactions (docs/card-profile.md 9): every public call is one
	 * PC/SC transaction, taken before its first exchange.  depth counts
	 * nested public calls; in_txn is set while the transaction is held.
	 * df is what the card's current DF is known to be inside it: unknown
	 * at its start (another program may have run since our last one).
	 */
	unsigned depth;
	bool in_txn;
	int df;
	/*
	 * PACE: EF.CardAccess as first read (public and fixed for the card),
	 * so that re-running PACE after another program ended our session
	 * costs PACE alone; pace_reset when the card was reset (its MF is
	 * current again: the application must be selected after PACE).
	 */
	uint8_t *card_access;
	size_t card_access_len;
	bool pace_reset;
};

/* What the current DF is known to be inside a transaction. */
enum { CARD_DF_UNKNOWN = 0, CARD_DF_PKI, CARD_DF_OTHER };

/* The PKI application's DF (card-profile.md 2), current after open. */
static const uint8_t pki_df[] = { 0xA0, 0x01 };

/* ---- exchange ---------------------------------------------------------- */

static int
select_pki(cnie_transport *t)
{
	cnie_apdu a;
	uint16_t sw;
	int r;

	cnie_buf *b;

	cnie_apdu_init(&a, 0x00, 0xA4, 0x04, 0x0C);
	a.data = pki_aid;
	a.nc = sizeof(pki_aid);
	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	r = cnie_apdu_transmit(t, &a, b, &sw);
	cnie_buf_free(&b);
	if (r != 0)
		return r;
	if (sw == 0x6A82)
		return CNIE_ERR_CARD_NOT_RECOGNISED;
	return cnie_sw_to_error(sw);
}

/* ---- transactions ------------------------------------------------------ */

/*
 * The rules are in docs/card-profile.md 9.  In short: a public call is one
 * PC/SC transaction (SCardBeginTransaction before its first exchange,
 * SCardEndTransaction when it returns), so nobody else's APDU falls
 * between a SELECT and its READ BINARY, an MSE:SET and its PSO, or two
 * parts of one file.  Between two of our transactions another program
 * may have selected another DF; pcsc-lite cannot tell
 * (its event counter moves on insertion and removal only), so the first
 * command of a transaction that depends on the current DF is sent as is
 * and, when the card answers as it does outside the PKI application, the
 * application is selected again and the command sent once more.  A
 * single client pays nothing; a client whose DF was changed pays the
 * refused command and the SELECT.
 */

/* Commands depend on a PACE session (ours or the reader's) that a reset ends. */
static bool
card_pace_bound(const cnie_card *c)
{
	return c->inner != NULL || c->reader_pace;
}

/*
 * Under the reader's PACE, the reader answers 6987/6988 itself when its
 * secure messaging with the card failed and it dropped the session
 * (drivers/ifd/ifd_pace.c does; the card's own SM errors reach the reader,
 * never us): reported as CNIE_ERR_CARD_RESET, cnie_card_resume runs PACE
 * again.
 */
static bool
reader_session_lost(const cnie_card *c, uint16_t sw)
{
	return c->reader_pace && (sw == 0x6987 || sw == 0x6988);
}

/* Opens a public call (nested calls share the outer transaction). */
static void
card_enter(cnie_card *c)
{
	c->depth++;
}

static int card_txn_open(cnie_card *c);

/* Selects the PKI application (P2 0C, no answer data) inside the transaction. */
static int
card_select_pki(cnie_card *c)
{
	int r;

	if ((r = card_txn_open(c)) != 0)
		return r;
	c->df = CARD_DF_UNKNOWN;
	if ((r = select_pki(c->t)) == 0)
		c->df = CARD_DF_PKI;
	/* The reader's 6987/6988: its session ended (reader_session_lost). */
	if (c->reader_pace && (r == CNIE_ERR_SW_SM_MISSING || r == CNIE_ERR_SW_SM_INCORRECT)) {
		cnie_log_info("the reader's secure messaging session ended");
		r = CNIE_ERR_CARD_RESET;
	}
	return r;
}

/*
 * Takes the transaction before the call's first exchange (a call served
 * from memory costs no pcscd round trip).  A reset by another program
 * since our last transaction is reported by SCardBeginTransaction: the
 * card's security state is gone (card-profile.md 7), so reattach, select
 * the application and report CNIE_ERR_LOGIN_LOST once, with nothing of the
 * call sent.  Under PACE the session died too: CNIE_ERR_CARD_RESET as is
 * (cnie_card_resume with the CAN).
 */
static int
card_txn_open(cnie_card *c)
{
	int r;

	if (c->in_txn || c->depth == 0)
		return 0;
	c->df = CARD_DF_UNKNOWN;
	r = cnie_transport_begin(c->t);
	if (r == CNIE_ERR_CARD_RESET && !card_pace_bound(c)) {
		cnie_log_info("card reset by another program: reconnecting");
		if ((r = cnie_transport_reconnect(c->t)) != 0 ||
		    (r = cnie_transport_begin(c->t)) != 0)
			return r;
		c->in_txn = true;
		if ((r = card_select_pki(c)) != 0)
			return r;
		return CNIE_ERR_LOGIN_LOST;
	}
	if (r == CNIE_ERR_CARD_RESET)
		c->pace_reset = true;
	if (r != 0)
		return r;
	c->in_txn = true;
	return 0;
}

/*
 * Closes a public call; the outermost one ends the transaction.  The
 * call's outcome stands: a card removed after its last answer is seen by
 * the next call.
 */
static int
card_leave(cnie_card *c, int r)
{
	int r2;

	if (c->depth == 0 || --c->depth > 0 || !c->in_txn)
		return r;
	c->in_txn = false;
	c->df = CARD_DF_UNKNOWN;
	/* c->t is NULL only after a failed PACE start: the lock is the reader's. */
	if ((r2 = cnie_transport_end(c->t != NULL ? c->t : c->inner)) != 0)
		cnie_log_debug("end of transaction: %s", cnie_strerror(r2));
	return r;
}

/*
 * The body of every public call: NULL card refused, then one transaction
 * for the whole call (docs/card-profile.md 9), entered before `call` runs
 * (the comma is a sequence point) and left, with call's result, after it.
 */
#define CARD_PUBLIC_CALL(c, call)                                              \
	((c) == NULL ? CNIE_ERR_INVALID_ARG : (card_enter(c), card_leave((c), (call))))

/* After CNIE_ERR_CARD_RESET: reattach, select the application, report the lost login. */
static int
card_xfer_reset(cnie_card *c)
{
	int r;

	cnie_log_info("card reset by another program: reconnecting");
	c->df = CARD_DF_UNKNOWN;
	if ((r = cnie_transport_reconnect(c->t)) != 0)
		return r;
	if ((r = card_select_pki(c)) != 0)
		return r;
	return CNIE_ERR_LOGIN_LOST;
}

/*
 * The answers a command of the PKI application gets when another DF is
 * current (card-profile.md 9): 6A82 (no such file), 6A88 (no such key or
 * PIN reference: both are DF-specific), 6986 (no current EF), 6982 (the
 * other application's interface rule, card-profile.md 2).  None of them
 * has compared a PIN or used a key.
 */
static bool
df_lost(uint16_t sw)
{
	return sw == 0x6A82 || sw == 0x6A88 || sw == 0x6986 || sw == 0x6982;
}

/*
 * Every command goes through here, inside the call's transaction.  A
 * reset by another program loses the card's security state (7816-4 has
 * no resume): reconnect, select the application again and report
 * CNIE_ERR_LOGIN_LOST once.  The first command of a transaction that is
 * not a SELECT runs where another program may have left another DF
 * current: see df_lost().
 */
static int
card_xfer(cnie_card *c, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	cnie_buf *scratch = NULL;
	size_t before;
	bool fresh, first;
	int r;

	if ((r = card_txn_open(c)) != 0)
		return r;
	if (resp == NULL && (resp = scratch = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	before = cnie_buf_len(resp);
	fresh = c->df == CARD_DF_UNKNOWN;
	first = fresh && a->ins != 0xA4;
	r = cnie_apdu_transmit(c->t, a, resp, sw);
	if (card_pace_bound(c) && (r == CNIE_ERR_CARD_RESET || r == CNIE_ERR_LOGIN_LOST)) {
		c->pace_reset = true;
		r = CNIE_ERR_CARD_RESET;
	} else if (r == 0 && reader_session_lost(c, *sw)) {
		cnie_log_info("the reader's secure messaging session ended (SW %04X)", *sw);
		r = CNIE_ERR_CARD_RESET;
	} else if (c->inner != NULL && r == CNIE_ERR_SM && fresh) {
		/*
		 * The first command of a transaction found no session: another
		 * program's plain command ended it (card-profile.md 6).  Reported
		 * as a reset of our session: cnie_card_resume runs PACE again.
		 */
		cnie_log_info("secure messaging session ended by another program");
		r = CNIE_ERR_CARD_RESET;
	}
	if (r == 0 && first && df_lost(*sw)) {
		cnie_log_debug("SW %04X: another program changed the current application; "
		    "selecting it again", *sw);
		if ((r = cnie_buf_truncate(resp, before)) == 0 && (r = card_select_pki(c)) == 0)
			r = cnie_apdu_transmit(c->t, a, resp, sw);
	}
	if (r == 0 && first)
		c->df = CARD_DF_PKI;
	cnie_buf_free(&scratch);
	/* A PACE session does not survive a reset: the caller must open again. */
	if (r != CNIE_ERR_CARD_RESET || card_pace_bound(c))
		return r;
	return card_xfer_reset(c);
}

/* Selects the file at an absolute PKCS#15 path (3F00 ...) by path from the MF. */
static int
select_path(cnie_card *c, const uint8_t *path, size_t len)
{
	cnie_apdu a;
	uint16_t sw;
	int r;

	if (len >= 2 && path[0] == 0x3F && path[1] == 0x00) {
		path += 2;
		len -= 2;
	}
	if (len == 0 || len % 2 != 0 || len > 8)
		return CNIE_ERR_UNSUPPORTED;
	cnie_apdu_init(&a, 0x00, 0xA4, 0x08, 0x0C);
	a.data = path;
	a.nc = len;
	if ((r = card_xfer(c, &a, NULL, &sw)) != 0)
		return r;
	if ((r = cnie_sw_to_error(sw)) != 0)
		return r;
	/* A path from the MF names its DF: the PKI application's or another. */
	c->df = len >= 2 && memcmp(path, pki_df, sizeof(pki_df)) == 0 ? CARD_DF_PKI :
	    CARD_DF_OTHER;
	return 0;
}

/* One READ BINARY at off for up to ne bytes, appended to out; *eof set on a short answer. */
static int
read_chunk(cnie_card *c, size_t off, size_t ne, cnie_buf *out, bool *eof)
{
	cnie_apdu a;
	size_t before = cnie_buf_len(out);
	uint16_t sw;
	int r;

	cnie_apdu_init(&a, 0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off);
	a.ne = ne;
	if ((r = card_xfer(c, &a, out, &sw)) != 0)
		return r;
	*eof = false;
	if (sw == 0x6B00 && off > 0) {
		/* Offset at the end of a file whose size is a multiple of ne. */
		*eof = true;
		return 0;
	}
	if (sw != 0x9000 && sw != 0x6282)
		return cnie_sw_to_error(sw);
	if (cnie_buf_len(out) - before > ne)
		return CNIE_ERR_BAD_RESPONSE;
	if (sw == 0x6282 || cnie_buf_len(out) - before < ne)
		*eof = true;
	return 0;
}

static size_t
chunk_size(const cnie_card *c)
{
	const cnie_transport_caps *caps = cnie_transport_get_caps(c->t);
	size_t n = 256;

	/* 7816-4 8.2.1.1 advises 4096 through EF.ATR/INFO on this card. */
	if (caps->extended && caps->max_resp > 2 + 256)
		n = caps->max_resp - 2 < 4096 ? caps->max_resp - 2 : 4096;
	return n;
}

/*
 * Reads a whole transparent file.  When der is true the file holds one DER
 * object: its header gives the exact size, so the read stops there
 * (certificate files may be padded).
 */
/*
 * One READ BINARY with odd INS (7816-4 11.2.3): P1-P2 the EF's FID in the
 * current DF, offset in DO 54, data in DO 53.  *sw is the card's answer;
 * 0 with *sw not 9000/6282 leaves the decision (fall back) to the caller.
 */
static int
read_chunk_odd(cnie_card *c, const uint8_t fid[2], size_t off, size_t ne, cnie_buf *out,
    bool *eof, uint16_t *sw)
{
	uint8_t cmd[4];
	cnie_buf *resp = NULL;
	cnie_apdu a;
	cnie_tlv tlv;
	size_t room;
	int r;

	cmd[0] = 0x54;
	if (off <= 0xFF) {
		cmd[1] = 1, cmd[2] = (uint8_t)off;
	} else {
		cmd[1] = 2, cmd[2] = (uint8_t)(off >> 8), cmd[3] = (uint8_t)off;
	}
	cnie_apdu_init(&a, 0x00, 0xB1, fid[0], fid[1]);
	a.data = cmd;
	a.nc = 2u + cmd[1];
	a.ne = ne;
	if ((resp = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = card_xfer(c, &a, resp, sw)) != 0)
		goto out;
	*eof = false;
	if (*sw != 0x9000 && *sw != 0x6282)
		goto out;
	/* Exactly one DO 53 within Ne; an empty answer to a full read is no progress. */
	if (cnie_buf_len(resp) > ne ||
	    (r = cnie_tlv_parse_one(cnie_buf_ptr(resp), cnie_buf_len(resp), &tlv)) != 0 ||
	    tlv.tag != 0x53) {
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	room = ne - tlv.hdr_len;
	if (*sw == 0x9000 && tlv.len == 0) {
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	if ((r = cnie_buf_put(out, tlv.value, tlv.len)) != 0)
		goto out;
	if (*sw == 0x6282 || tlv.len < room)
		*eof = true;
out:
	cnie_buf_free(&resp);
	return r;
}

/* The DER object's total size from its first bytes (certificates may be padded). */
static int
der_size(const cnie_buf *b, size_t *want)
{
	cnie_cur cur;
	uint8_t tag, l0;
	uint32_t l = 0;

	cnie_buf_cur(b, &cur);
	cnie_cur_u8(&cur, &tag);
	cnie_cur_u8(&cur, &l0);
	if (cur.err != 0)
		return cur.err;
	if (tag != 0x30)
		return CNIE_ERR_ENCODING;
	if (l0 < 0x80)
		l = l0;
	else if (l0 == 0x81 || l0 == 0x82)
		cnie_cur_uint_be(&cur, (size_t)(l0 & 0x7F), &l);
	else
		return CNIE_ERR_ENCODING;
	if (cur.err != 0)
		return cur.err;
	if (l > CARD_FILE_MAX - cur.pos)
		return CNIE_ERR_TOO_LONG;
	*want = cur.pos + l;
	return 0;
}

/*
 * A file of the PKI DF (3F00 A001 xxxx) read by FID with odd-INS READ
 * BINARY: one APDU per chunk and no SELECT (card-profile.md 5).  Returns 1
 * when the card did not take it (6A82: another DF is current; 6D00/6E00/
 * 6A81/6A86: no odd INS) so that the caller selects and reads with B0.
 */
static int
read_file_odd(cnie_card *c, const cnie_p15_path *path, bool der, cnie_buf *out)
{
	const uint8_t *fid;
	size_t ch = chunk_size(c), want = CARD_FILE_MAX, got;
	bool eof = false;
	uint16_t sw = 0;
	int r;

	if (c->no_odd_read || path->has_range || path->len != 6 || path->value[0] != 0x3F ||
	    path->value[1] != 0x00 || memcmp(path->value + 2, pki_df, sizeof(pki_df)) != 0)
		return 1;
	fid = path->value + 4;
	while (!eof && cnie_buf_len(out) < want) {
		got = cnie_buf_len(out);
		if ((r = read_chunk_odd(c, fid, got, ch, out, &eof, &sw)) != 0)
			return r;
		if (sw == 0x6B00 && got != 0)
			break; /* offset at the end of a file that filled the last answer */
		if (sw != 0x9000 && sw != 0x6282) {
			if (got != 0)
				return cnie_sw_to_error(sw);
			if (sw == 0x6D00 || sw == 0x6E00 || sw == 0x6A81 || sw == 0x6A86)
				c->no_odd_read = true;
			if (sw == 0x6A82 || c->no_odd_read)
				return 1;
			return cnie_sw_to_error(sw);
		}
		if (der && want == CARD_FILE_MAX && cnie_buf_len(out) >= 4 &&
		    (r = der_size(out, &want)) != 0)
			return r;
	}
	if (cnie_buf_len(out) > want)
		return cnie_buf_truncate(out, want);
	if (der && cnie_buf_len(out) < want)
		return CNIE_ERR_TRUNCATED;
	return 0;
}

static int
read_file(cnie_card *c, const cnie_p15_path *path, bool der, cnie_buf *out)
{
	size_t ch = chunk_size(c), want = CARD_FILE_MAX, off, n;
	bool eof = false;
	int r;

	if ((r = read_file_odd(c, path, der, out)) <= 0)
		return r;
	cnie_buf_reset(out);
	if ((r = select_path(c, path->value, path->len)) != 0)
		return r;
	off = path->has_range ? path->index : 0;
	if (path->has_range)
		want = path->length;
	if (off > CARD_FILE_MAX || want > CARD_FILE_MAX - off)
		return CNIE_ERR_TOO_LONG;
	while (!eof && cnie_buf_len(out) < want) {
		n = want - cnie_buf_len(out) < ch ? want - cnie_buf_len(out) : ch;
		if ((r = read_chunk(c, off + cnie_buf_len(out), n, out, &eof)) != 0)
			return r;
		if (der && want == CARD_FILE_MAX && cnie_buf_len(out) >= 4 &&
		    (r = der_size(out, &want)) != 0)
			return r;
	}
	if (cnie_buf_len(out) > want)
		return cnie_buf_truncate(out, want);
	if (der && cnie_buf_len(out) < want)
		return CNIE_ERR_TRUNCATED;
	return 0;
}

/* ---- cache -------------------------------------------------------------- */

/*
 * Opens the card's cache on first need: GET DATA 00 CA 00 5A gives the
 * serial (card-profile.md, 8 bytes), the ATR's digest (card product and
 * profile version, no APDU) is the content check; what the cache cannot
 * see (a certificate rewritten under the same serial) is caught after
 * each key operation, which is verified with the cached certificate
 * (check_with_cert).  A card without the serial, or no usable cache
 * directory: everything is read from the card, as without a cache.
 */
static int
cache_init(cnie_card *c)
{
	cnie_buf *b = NULL;
	cnie_apdu a;
	uint16_t sw;
	int r;

	if (c->cache_tried)
		return 0;
	c->cache_tried = true;
	if (!cnie_cache_enabled())
		return 0;
	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	cnie_apdu_init(&a, 0x00, 0xCA, 0x00, 0x5A);
	a.ne = 8;
	if ((r = card_xfer(c, &a, b, &sw)) != 0)
		goto out;
	if (sw != 0x9000 || cnie_buf_len(b) != 8) {
		cnie_log_info("no card serial (SW %04X): cache not used", sw);
		goto out;
	}
	if (cnie_cache_open(cnie_buf_ptr(b), cnie_buf_len(b), c->atr_check,
	    sizeof(c->atr_check), &c->cache) != 0)
		c->cache = NULL;
out:
	cnie_buf_free(&b);
	return r;
}

/*
 * read_file through the cache: entry name first, else the card (then
 * stored).  *hit (may be NULL) tells where it came from.
 */
static int
read_cached(cnie_card *c, const char *name, const cnie_p15_path *path, bool der,
    cnie_buf *out, bool *hit)
{
	int r;

	if (hit != NULL)
		*hit = false;
	if (c->cache != NULL && cnie_cache_get(c->cache, name, out) == 0) {
		if (hit != NULL)
			*hit = true;
		return 0;
	}
	cnie_buf_reset(out);
	if ((r = read_file(c, path, der, out)) != 0)
		return r;
	if (c->cache != NULL &&
	    cnie_cache_put(c->cache, name, cnie_buf_ptr(out), cnie_buf_len(out)) != 0)
		cnie_log_info("cache: could not store %s", name);
	return 0;
}

#define CERT_ENTRY_NAME (5 + 2 * CNIE_CARD_MAX_ID + 1)

/* Entry "cert-<iD in hex>": the iD is the certificate's SKI. */
static void
cert_entry_name(const uint8_t *id, size_t id_len, char name[CERT_ENTRY_NAME])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	memcpy(name, "cert-", 5);
	for (i = 0; i < id_len; i++) {
		name[5 + 2 * i] = digits[id[i] >> 4];
		name[5 + 2 * i + 1] = digits[id[i] & 0x0F];
	}
	name[5 + 2 * id_len] = '\0';
}

/*
 * Deletes this card's cache entries (the in-memory copies stay: callers
 * may hold pointers into them for the card's life).
 */
static void
purge_cache(cnie_card *c)
{
	static const char *const names[] = { "odf", "tokeninfo", "aodf", "prkdf", "cdf" };
	char name[CERT_ENTRY_NAME];
	size_t i;

	if (c->cache == NULL)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)cnie_cache_remove(c->cache, names[i]);
	for (i = 0; i < c->ncerts; i++) {
		cert_entry_name(c->certs[i].id, c->certs[i].id_len, name);
		(void)cnie_cache_remove(c->cache, name);
	}
}

/* ---- discovery --------------------------------------------------------- */

static int
read_df(cnie_card *c, cnie_p15_df_type type, const char *name, const cnie_p15_odf *odf,
    cnie_buf *b)
{
	const cnie_p15_path *p;
	int r;

	cnie_buf_reset(b);
	if ((r = cnie_p15_odf_find(odf, type, 0, &p)) != 0)
		return r;
	return read_cached(c, name, p, false, b, NULL);
}

/* TokenInfo (5032, ISO 7816-15 8.4): only serial and label need it. */
static int
load_tokeninfo(cnie_card *c)
{
	static const cnie_p15_path ti_path = { { 0x3F, 0x00, 0xA0, 0x01, 0x50, 0x32 }, 6,
		false, 0, 0 };
	cnie_buf *b = NULL;
	int r;

	if (c->ti_loaded)
		return 0;
	if ((r = cache_init(c)) != 0)
		return r;
	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = read_cached(c, "tokeninfo", &ti_path, false, b, NULL)) != 0)
		goto out;
	if ((r = cnie_p15_tokeninfo_parse(cnie_buf_ptr(b), cnie_buf_len(b), &c->ti)) != 0) {
		if (c->cache != NULL)
			(void)cnie_cache_remove(c->cache, "tokeninfo");
		goto out;
	}
	c->ti_loaded = true;
out:
	cnie_buf_free(&b);
	return r;
}

/*
 * The structures a key operation needs (ISO 7816-15 8.4): ODF 5031 in the
 * application DF, then the AODF, PrKDF and CDF it points to.
 */
static int
load_p15(cnie_card *c)
{
	static const cnie_p15_path odf_path = { { 0x3F, 0x00, 0xA0, 0x01, 0x50, 0x31 }, 6,
		false, 0, 0 };
	cnie_p15_odf *odf = NULL;
	cnie_buf *b = NULL;
	int r;

	if (c->p15_loaded)
		return 0;
	if ((r = cache_init(c)) != 0)
		return r;
	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	if ((r = read_cached(c, "odf", &odf_path, false, b, NULL)) != 0 ||
	    (r = cnie_p15_odf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &odf)) != 0)
		goto out;
	if ((r = read_df(c, CNIE_P15_AODF, "aodf", odf, b)) != 0 ||
	    (r = cnie_p15_aodf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &c->aodf)) != 0)
		goto out;
	if ((r = read_df(c, CNIE_P15_PRKDF, "prkdf", odf, b)) != 0 ||
	    (r = cnie_p15_prkdf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &c->prkdf)) != 0)
		goto out;
	if ((r = read_df(c, CNIE_P15_CDF, "cdf", odf, b)) != 0 ||
	    (r = cnie_p15_cdf_parse(cnie_buf_ptr(b), cnie_buf_len(b), &c->cdf)) != 0)
		goto out;
	c->p15_loaded = true;
out:
	if (r != 0 && c->cache != NULL) {
		/*
		 * Entries that pass their digest but not the parser (another
		 * library version, a bad read once stored): read the card next time.
		 */
		(void)cnie_cache_remove(c->cache, "odf");
		(void)cnie_cache_remove(c->cache, "aodf");
		(void)cnie_cache_remove(c->cache, "prkdf");
		(void)cnie_cache_remove(c->cache, "cdf");
	}
	if (r != 0) {
		cnie_p15_aodf_free(&c->aodf);
		cnie_p15_prkdf_free(&c->prkdf);
		cnie_p15_cdf_free(&c->cdf);
	}
	cnie_p15_odf_free(&odf);
	cnie_buf_free(&b);
	return r;
}

/* ---- open / free ------------------------------------------------------- */

/*
 * The cache's content check (src/libcnie/include/cnie/cache.h): the ATR names the card
 * product and its profile version, and costs no APDU.  The card itself is
 * identified by its application (SELECT of the PKI AID), not by the ATR.
 */
static int
atr_check(cnie_card *c)
{
	uint8_t atr[33], md[EVP_MAX_MD_SIZE];
	size_t n = sizeof(atr);
	unsigned int ml = 0;

	if (cnie_transport_atr(c->inner != NULL ? c->inner : c->t, atr, &n) != 0 || n == 0)
		return 0; /* no ATR: the serial alone keys the cache */
	if (EVP_Digest(atr, n, md, &ml, EVP_sha256(), NULL) != 1 || ml < sizeof(c->atr_check))
		return CNIE_ERR_CRYPTO;
	memcpy(c->atr_check, md, sizeof(c->atr_check));
	return 0;
}

static int
card_applications(cnie_card *c, cnie_p15_dir **out)
{
	static const cnie_p15_path dir_path = { { 0x3F, 0x00, 0x2F, 0x00 }, 4, false, 0, 0 };
	cnie_buf *b = NULL;
	int r, r2;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((b = cnie_buf_new()) == NULL)
		return CNIE_ERR_NOMEM;
	r = read_file(c, &dir_path, false, b);
	if (r == 0)
		r = cnie_p15_dir_parse(cnie_buf_ptr(b), cnie_buf_len(b), out);
	else if (r == CNIE_ERR_SW_FILE_NOT_FOUND)
		r = CNIE_ERR_NOT_FOUND;
	/* The MF is current now: the PKI application again for what follows. */
	if ((r2 = card_select_pki(c)) != 0 && r == 0) {
		cnie_p15_dir_free(out);
		r = r2;
	}
	cnie_buf_free(&b);
	return r;
}

/*
 * PACE with the CAN (ICAO 9303-11 4.4), EF.CardAccess read from the MF, then
 * every command inside secure messaging.
 */
static int
start_pace(cnie_card *c, const char *can)
{
	static const cnie_p15_path ca_path = { { 0x3F, 0x00, 0x01, 0x1C }, 4, false, 0, 0 };
	cnie_buf *ca = NULL;
	cnie_sm *sm = NULL;
	size_t n, i;
	int r;

	n = strnlen(can, 13);
	if (n == 0 || n > 12)
		return CNIE_ERR_INVALID_ARG;
	for (i = 0; i < n; i++)
		if (can[i] < '0' || can[i] > '9')
			return CNIE_ERR_INVALID_ARG;
	if (c->card_access == NULL) {
		if ((ca = cnie_buf_new()) == NULL)
			return CNIE_ERR_NOMEM;
		if ((r = read_file(c, &ca_path, false, ca)) != 0 ||
		    (r = cnie_buf_dup(ca, &c->card_access, &c->card_access_len)) != 0)
			goto out;
	}
	/* PACE's steps in the call's transaction, like every other exchange. */
	if ((r = card_txn_open(c)) != 0)
		goto out;
	if ((r = cnie_pace_run(c->t, c->card_access, c->card_access_len, CNIE_PACE_CAN, can, n,
	    &sm)) != 0)
		goto out;
	c->inner = c->t;
	c->t = NULL;
	/* sm is taken over by the SM transport, also on failure. */
	if ((r = cnie_sm_transport_new(c->inner, sm, &c->t)) != 0)
		goto out;
out:
	cnie_buf_free(&ca);
	return r;
}

/* Output of EstablishPACEChannel we accept: EF.CardAccess of a few hundred bytes. */
#define READER_PACE_OUT_MAX 4096

/*
 * PACE run by the reader (PC/SC part 10 amendment 1, FEATURE_EXECUTE_PACE;
 * src/libcnie/include/cnie/reader_pace.h): EstablishPACEChannel with PinID
 * CAN, no CHAT and lengthPIN 0, so the reader takes the CAN from its own
 * keypad (BSI TR-03119 readers); the host never holds the CAN or the session
 * keys.  The reader reads EF.CardAccess, runs MSE:SET AT and the four
 * GENERAL AUTHENTICATE steps (ICAO 9303-11 4.4) and from then on wraps our
 * plain commands in its secure messaging (9303-11 9.8).  Its answer is
 * untrusted bytes: parsed bounded, a malformed one is CNIE_ERR_BAD_RESPONSE.
 * A keypad entry is asked only here, never repeated by the library.
 */
static int
start_reader_pace(cnie_card *c)
{
	const cnie_transport_caps *caps = cnie_transport_get_caps(c->t);
	uint8_t in[8], out[READER_PACE_OUT_MAX];
	size_t out_len = sizeof(out), data_len;
	const uint8_t *data;
	cnie_rpace_establish e;
	uint32_t result;
	int r;

	if (caps == NULL || !caps->reader_pace)
		return CNIE_ERR_UNSUPPORTED;
	/* In the call's transaction: nobody else's APDU between PACE and our first command. */
	if ((r = card_txn_open(c)) == CNIE_ERR_CARD_RESET) {
		/* Reset before any keypad entry was asked: reconnect, then ask once. */
		c->pace_reset = true;
		if ((r = cnie_transport_reconnect(c->t)) == 0)
			r = card_txn_open(c);
	}
	if (r != 0)
		return r;
	cnie_rpace_establish_input(CNIE_RPACE_PIN_CAN, in);
	r = cnie_transport_control(c->t, caps->ioctl_pace, in, sizeof(in), out, &out_len);
	if (r != 0)
		goto out;
	if ((r = cnie_rpace_split(out, out_len, &result, &data, &data_len)) != 0) {
		cnie_log_warn("reader PACE: malformed answer from the reader (%s)",
		    cnie_error_name(r));
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	if (result != CNIE_RPACE_OK) {
		r = cnie_rpace_result_error(result);
		cnie_log_info("reader PACE: %s (%08X)", cnie_rpace_result_name(result),
		    (unsigned)result);
		goto out;
	}
	if ((r = cnie_rpace_parse_establish(data, data_len, &e)) != 0 || e.mse_sw != 0x9000) {
		cnie_log_warn("reader PACE: malformed EstablishPACEChannel output (%s)",
		    r != 0 ? cnie_error_name(r) : "MSE:SET AT not 9000 with success");
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	cnie_log_debug("reader PACE established (EF.CardAccess %zu bytes)", e.card_access_len);
	r = 0;
out:
	cnie_wipe(out, sizeof(out));
	return r;
}

int
cnie_card_open(cnie_transport *t, cnie_card **out)
{
	return cnie_card_open_ex(t, NULL, out);
}

int
cnie_card_open_ex(cnie_transport *t, const char *can, cnie_card **out)
{
	cnie_card *c = NULL;
	int r;

	if (out != NULL)
		*out = NULL;
	if (t == NULL || out == NULL) {
		cnie_transport_free(&t);
		return CNIE_ERR_INVALID_ARG;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		cnie_transport_free(&t);
		return CNIE_ERR_NOMEM;
	}
	c->t = t;
	card_enter(c);
	if (cnie_transport_get_caps(t)->contactless && cnie_transport_get_caps(t)->reader_pace) {
		/* The reader's keypad takes the CAN: can is not used, not even looked at. */
		c->contactless = true;
		c->reader_pace = true;
		if ((r = start_reader_pace(c)) != 0)
			goto out;
	} else if (cnie_transport_get_caps(t)->contactless) {
		c->contactless = true;
		if (can == NULL) {
			r = CNIE_ERR_NEED_CAN;
			goto out;
		}
		if ((r = start_pace(c, can)) != 0)
			goto out;
	}
	if ((r = atr_check(c)) != 0)
		goto out;
	r = card_select_pki(c);
out:
	r = card_leave(c, r);
	if (r == 0) {
		*out = c;
		c = NULL;
	}
	cnie_card_free(&c);
	return r;
}

static int
card_resume(cnie_card *c, const char *can)
{
	int r;

	if (!c->contactless) {
		if ((r = cnie_transport_reconnect(c->t)) != 0)
			return r;
		return card_select_pki(c);
	}
	if (c->reader_pace) {
		/* The reader's session died with the reset (or ended): the reader runs PACE again. */
		if (c->pace_reset && (r = cnie_transport_reconnect(c->t)) != 0)
			return r;
		/* One keypad request per call (start_reader_pace handles a reset before it). */
		r = start_reader_pace(c);
		goto selected;
	}
	if (can == NULL)
		return CNIE_ERR_NEED_CAN;
	/* The secure messaging session died with the reset: back to the reader. */
	if (c->inner != NULL) {
		cnie_transport_free(&c->t);
		c->t = c->inner;
		c->inner = NULL;
	}
	/* Reattach after a reset; a session merely ended needs nothing of the reader. */
	if (c->pace_reset && (r = cnie_transport_reconnect(c->t)) != 0)
		return r;
	r = start_pace(c, can);
	if (r == CNIE_ERR_LOGIN_LOST || r == CNIE_ERR_CARD_RESET) {
		/* The card was reset as well, seen only now (before PACE began). */
		c->pace_reset = true;
		if (r == CNIE_ERR_CARD_RESET && (r = cnie_transport_reconnect(c->t)) != 0)
			return r;
		r = start_pace(c, can);
	}
selected:
	if (r != 0)
		return r;
	/*
	 * After a reset the MF is current (card-profile.md 7); after another
	 * program merely ended the session the DF may be ours still, and the
	 * next command finds out (card_xfer): PACE and nothing more.
	 */
	if (!c->pace_reset)
		return 0;
	c->pace_reset = false;
	return card_select_pki(c);
}

int
cnie_card_resume(cnie_card *c, const char *can)
{
	return CARD_PUBLIC_CALL(c, card_resume(c, can));
}

int
cnie_card_open_reader(cnie_pcsc *ctx, const char *reader, cnie_card **out)
{
	cnie_transport *t = NULL;
	int r;

	if (out != NULL)
		*out = NULL;
	if (ctx == NULL || reader == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = cnie_pcsc_connect(ctx, reader, &t)) != 0)
		return r;
	return cnie_card_open(t, out);
}

void
cnie_card_free(cnie_card **cp)
{
	cnie_card *c;
	size_t i;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	for (i = 0; i < c->ncerts; i++)
		free(c->certs[i].der);
	cnie_p15_tokeninfo_free(&c->ti);
	cnie_p15_aodf_free(&c->aodf);
	cnie_p15_prkdf_free(&c->prkdf);
	cnie_p15_cdf_free(&c->cdf);
	cnie_cache_free(&c->cache);
	free(c->card_access);
	cnie_transport_free(&c->t);
	cnie_transport_free(&c->inner);
	cnie_freezero(c, sizeof(*c));
	*cp = NULL;
}

cnie_transport *
cnie_card_transport(cnie_card *c)
{
	return c == NULL ? NULL : c->t;
}

/* ---- information ------------------------------------------------------- */

static int
card_serial(cnie_card *c, const char **out)
{
	int r;

	if (c == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = load_tokeninfo(c)) != 0)
		return r;
	*out = c->ti->serial;
	return 0;
}

static int
card_label(cnie_card *c, const char **out)
{
	int r;

	if (c == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = load_tokeninfo(c)) != 0)
		return r;
	*out = c->ti->label;
	return 0;
}

static int
card_key_count(cnie_card *c, size_t *n)
{
	int r;

	if (c == NULL || n == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = load_p15(c)) != 0)
		return r;
	*n = c->prkdf->count;
	return 0;
}

static int
key_info(const cnie_p15_prkey *k, cnie_card_key_info *info)
{
	memset(info, 0, sizeof(*info));
	if (k->id_len > sizeof(info->id) || !k->has_key_ref || k->key_ref > 0xFF)
		return CNIE_ERR_BAD_RESPONSE;
	memcpy(info->id, k->id, k->id_len);
	info->id_len = k->id_len;
	memcpy(info->label, k->common.label, sizeof(info->label));
	info->type = k->type == CNIE_P15_KEY_RSA ? CNIE_CARD_KEY_RSA : CNIE_CARD_KEY_EC;
	info->bits = k->type == CNIE_P15_KEY_RSA ? k->modulus_bits : k->field_size;
	info->key_ref = (uint8_t)k->key_ref;
	if ((k->usage & (CNIE_P15_USAGE_SIGN | CNIE_P15_USAGE_SIGN_RECOVER)) != 0)
		info->usage |= CNIE_CARD_USAGE_SIGN;
	if ((k->usage & CNIE_P15_USAGE_NON_REPUDIATION) != 0) {
		info->usage |= CNIE_CARD_USAGE_NON_REPUDIATION;
		info->always_pin = true;
	}
	return 0;
}

static int
card_get_key(cnie_card *c, size_t i, cnie_card_key_info *info)
{
	int r;

	if (c == NULL || info == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = load_p15(c)) != 0)
		return r;
	if (i >= c->prkdf->count)
		return CNIE_ERR_NOT_FOUND;
	return key_info(&c->prkdf->keys[i], info);
}

static int
card_cert_count(cnie_card *c, size_t *n)
{
	int r;

	if (c == NULL || n == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = load_p15(c)) != 0)
		return r;
	*n = c->cdf->count;
	return 0;
}

static int
card_get_cert(cnie_card *c, size_t i, cnie_card_cert_info *info)
{
	const cnie_p15_cert *ce;
	int r;

	if (c == NULL || info == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = load_p15(c)) != 0)
		return r;
	if (i >= c->cdf->count)
		return CNIE_ERR_NOT_FOUND;
	ce = &c->cdf->certs[i];
	if (ce->id_len > sizeof(info->id))
		return CNIE_ERR_TOO_LONG;
	memset(info, 0, sizeof(*info));
	memcpy(info->id, ce->id, ce->id_len);
	info->id_len = ce->id_len;
	snprintf(info->label, sizeof(info->label), "%s", ce->common.label);
	info->authority = ce->authority;
	return 0;
}

static int
card_certificate(cnie_card *c, const uint8_t *id, size_t id_len, const uint8_t **der,
    size_t *der_len)
{
	const cnie_p15_cert *ce;
	card_cert *cc;
	cnie_buf *b = NULL;
	size_t i;
	int r;

	if (c == NULL || id == NULL || id_len == 0 || id_len > CNIE_CARD_MAX_ID ||
	    der == NULL || der_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = load_p15(c)) != 0)
		return r;
	for (i = 0; i < c->ncerts; i++) {
		if (c->certs[i].id_len == id_len && memcmp(c->certs[i].id, id, id_len) == 0) {
			*der = c->certs[i].der;
			*der_len = c->certs[i].der_len;
			return 0;
		}
	}
	if ((r = cnie_p15_cdf_find(c->cdf, id, id_len, &ce)) != 0)
		return r;
	if (c->ncerts >= CNIE_P15_MAX_OBJECTS)
		return CNIE_ERR_INTERNAL;
	cc = &c->certs[c->ncerts];
	if (ce->kind == CNIE_P15_VALUE_DIRECT) {
		if ((b = cnie_buf_from(ce->direct, ce->direct_len)) == NULL)
			return CNIE_ERR_NOMEM;
	} else if (ce->kind == CNIE_P15_VALUE_PATH) {
		char name[CERT_ENTRY_NAME];

		cert_entry_name(id, id_len, name);
		if ((b = cnie_buf_new()) == NULL)
			return CNIE_ERR_NOMEM;
		if ((r = read_cached(c, name, &ce->path, true, b, &cc->from_cache)) != 0)
			goto out;
	} else {
		return CNIE_ERR_UNSUPPORTED;
	}
	if ((r = cnie_buf_dup(b, &cc->der, &cc->der_len)) != 0)
		goto out;
	memcpy(cc->id, id, id_len);
	cc->id_len = id_len;
	c->ncerts++;
	*der = cc->der;
	*der_len = cc->der_len;
out:
	cnie_buf_free(&b);
	return r;
}

/* ---- PIN --------------------------------------------------------------- */

/* The user PIN object (reference 81) and, when wanted, its unblocking PIN. */
static int
find_pins(cnie_card *c, const cnie_p15_pin **pin, const cnie_p15_pin **puk)
{
	size_t i;
	int r;

	if ((r = load_p15(c)) != 0)
		return r;
	*pin = NULL;
	for (i = 0; i < c->aodf->count; i++) {
		const cnie_p15_pin *p = &c->aodf->pins[i];

		if (p->reference == CARD_PIN_REF &&
		    (p->flags & CNIE_P15_PIN_UNBLOCKING_PIN) == 0) {
			*pin = p;
			break;
		}
	}
	if (*pin == NULL)
		return CNIE_ERR_NOT_FOUND;
	if (puk == NULL)
		return 0;
	/* CommonObjectAttributes.authId of a PIN names the PIN that unblocks it. */
	return cnie_p15_aodf_find(c->aodf, (*pin)->common.auth_id, (*pin)->common.auth_id_len,
	    puk);
}

/* Digits only, min..max of the AODF (and never above what we pad to). */
static int
check_pin(const cnie_p15_pin *p, const char *v, size_t *len)
{
	size_t n, i, max = CARD_PIN_MAX;

	if (v == NULL)
		return CNIE_ERR_INVALID_ARG;
	n = strnlen(v, CARD_PIN_MAX + 1);
	if (p->has_max_len && p->max_len < max)
		max = p->max_len;
	if (n < p->min_len || n > max || n == 0)
		return CNIE_ERR_PIN_FORMAT;
	for (i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return CNIE_ERR_PIN_FORMAT;
	*len = n;
	return 0;
}

/* Maps the answer to a PIN command (7816-4 11.5.6: 63Cx, 6983). */
static int
pin_result(uint16_t sw, int *tries_left)
{
	if ((sw & 0xFFF0) == 0x63C0) {
		if (tries_left != NULL)
			*tries_left = sw & 0x0F;
		return (sw & 0x0F) == 0 ? CNIE_ERR_PIN_BLOCKED : CNIE_ERR_PIN_INCORRECT;
	}
	if (sw == 0x6983) {
		if (tries_left != NULL)
			*tries_left = 0;
		return CNIE_ERR_PIN_BLOCKED;
	}
	if (sw == 0x6A80)
		return CNIE_ERR_PIN_FORMAT;
	return cnie_sw_to_error(sw);
}

/* Appends v padded with FF to width (card-profile.md 4). */
static void
put_padded(uint8_t *dst, const char *v, size_t n, size_t width)
{
	memcpy(dst, v, n);
	memset(dst + n, 0xFF, width - n);
}

static size_t
pad_width(const cnie_p15_pin *p)
{
	return p->has_max_len && p->max_len <= CARD_PIN_MAX ? p->max_len : CARD_PIN_MAX;
}

static int
card_pin_status(cnie_card *c, int *tries_left, bool *blocked, bool *verified)
{
	const cnie_p15_pin *pin;
	cnie_apdu a;
	uint16_t sw;
	int r, tries = -1;
	bool blk = false, ok = false;

	if (c == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = find_pins(c, &pin, NULL)) != 0)
		return r;
	cnie_apdu_init(&a, 0x00, 0x20, 0x00, (uint8_t)pin->reference);
	if ((r = card_xfer(c, &a, NULL, &sw)) != 0)
		return r;
	if (sw == 0x9000)
		ok = true;
	else if ((sw & 0xFFF0) == 0x63C0) {
		tries = sw & 0x0F;
		blk = tries == 0;
	} else if (sw == 0x6983) {
		tries = 0;
		blk = true;
	} else
		return cnie_sw_to_error(sw);
	if (tries_left != NULL)
		*tries_left = tries;
	if (blocked != NULL)
		*blocked = blk;
	if (verified != NULL)
		*verified = ok;
	return 0;
}

static int
card_logout(cnie_card *c)
{
	const cnie_p15_pin *pin;
	cnie_apdu a;
	uint16_t sw;
	int r;

	if (c == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = find_pins(c, &pin, NULL)) != 0)
		return r;
	/* P1 = FF, no data: reset the verification status (7816-4 11.5.6). */
	cnie_apdu_init(&a, 0x00, 0x20, 0xFF, (uint8_t)pin->reference);
	r = card_xfer(c, &a, NULL, &sw);
	/* A reset by another program already cleared it: logged out all the same. */
	if (r == CNIE_ERR_LOGIN_LOST)
		return 0;
	if (r != 0)
		return r;
	return cnie_sw_to_error(sw);
}

static int
card_puk_status(cnie_card *c, int *tries_left, bool *blocked)
{
	const cnie_p15_pin *pin, *puk;
	cnie_apdu a;
	uint16_t sw;
	int r, tries = -1;
	bool blk = false;

	if (c == NULL)
		return CNIE_ERR_INVALID_ARG;
	/* The unblocking PIN is the one the user PIN's authId names (7816-15). */
	if ((r = find_pins(c, &pin, &puk)) != 0)
		return r;
	/* Empty VERIFY: the status, no try spent (ISO 7816-4 11.5.6). */
	cnie_apdu_init(&a, 0x00, 0x20, 0x00, (uint8_t)puk->reference);
	/*
	 * The PUK reference is DF-specific (card-profile.md 4): with another
	 * DF current the card answers 6A88 and card_xfer selects the PKI
	 * application and asks again, once.
	 */
	if ((r = card_xfer(c, &a, NULL, &sw)) != 0)
		return r;
	if ((sw & 0xFFF0) == 0x63C0) {
		tries = sw & 0x0F;
		blk = tries == 0;
	} else if (sw == 0x6983) {
		tries = 0;
		blk = true;
	} else if (sw != 0x9000)
		return cnie_sw_to_error(sw);
	if (tries_left != NULL)
		*tries_left = tries;
	if (blocked != NULL)
		*blocked = blk;
	return 0;
}

static int
card_pin_verify(cnie_card *c, const char *pin, int *tries_left)
{
	const cnie_p15_pin *p;
	uint8_t data[CARD_PIN_MAX];
	cnie_apdu a;
	size_t n;
	uint16_t sw;
	int r;

	if (c == NULL || pin == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = find_pins(c, &p, NULL)) != 0 || (r = check_pin(p, pin, &n)) != 0)
		return r;
	/* The card takes the digits only, no padding (card-profile.md 4). */
	memcpy(data, pin, n);
	cnie_apdu_init(&a, 0x00, 0x20, 0x00, (uint8_t)p->reference);
	a.data = data;
	a.nc = n;
	a.flags = CNIE_APDU_SENSITIVE;
	r = card_xfer(c, &a, NULL, &sw);
	cnie_wipe(data, sizeof(data));
	if (r != 0)
		return r;
	return pin_result(sw, tries_left);
}

/* PC/SC part 10 2.5.2 fields are little-endian. */
static size_t
put_le(uint8_t *p, uint32_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return n;
}

/*
 * Before a PIN pad command, inside the call's transaction: the reader
 * sends the VERIFY or CHANGE itself and a refused one would make the
 * holder type the PIN again, so the application is selected first unless
 * this transaction already knows it is current (card-profile.md 9).
 */
static int
pinpad_ready(cnie_card *c)
{
	int r;

	if ((r = card_txn_open(c)) != 0)
		return r;
	if (c->df == CARD_DF_PKI)
		return 0;
	return card_select_pki(c);
}

/* The answer of a PIN pad (PC/SC part 10 2.5.2, 2.5.3) to our errors. */
static int
pinpad_result(const uint8_t *resp, size_t rl, int *tries_left)
{
	uint16_t sw;

	if (rl != 2)
		return CNIE_ERR_BAD_RESPONSE;
	sw = (uint16_t)(resp[0] << 8 | resp[1]);
	/* 6400 timeout, 6401 cancel, 6402 new PIN and confirmation differ, 6403 length. */
	switch (sw) {
	case 0x6400:
		return CNIE_ERR_PINPAD_TIMEOUT;
	case 0x6401:
		return CNIE_ERR_PINPAD_CANCELLED;
	case 0x6402:
	case 0x6403:
		return CNIE_ERR_PIN_FORMAT;
	default:
		return pin_result(sw, tries_left);
	}
}

/*
 * After a PIN pad exchange.  Under the reader's PACE the reader sent the
 * VERIFY (or CHANGE) inside its own secure messaging: a reset ended that
 * session (CNIE_ERR_CARD_RESET for cnie_card_resume), and 6987/6988 are the
 * reader saying its session failed.
 */
static int
pinpad_done(cnie_card *c, int r, const uint8_t *resp, size_t rl, int *tries_left)
{
	if (r == CNIE_ERR_CARD_RESET && c->reader_pace) {
		c->pace_reset = true;
		return r;
	}
	if (r == CNIE_ERR_CARD_RESET)
		return card_xfer_reset(c);
	if (r != 0)
		return r;
	if (rl == 2 && reader_session_lost(c, (uint16_t)(resp[0] << 8 | resp[1])))
		return CNIE_ERR_CARD_RESET;
	return pinpad_result(resp, rl, tries_left);
}

static int
card_pin_verify_pinpad(cnie_card *c, int *tries_left)
{
	const cnie_transport_caps *caps;
	const cnie_p15_pin *p;
	uint8_t st[32], resp[2];
	size_t n = 0, rl = sizeof(resp), max;
	int r;

	if (c == NULL)
		return CNIE_ERR_INVALID_ARG;
	caps = cnie_transport_get_caps(c->t);
	/*
	 * The reader sends the VERIFY itself: in plain, so not inside our own
	 * secure messaging; under the reader's PACE, inside the reader's.
	 */
	if (!caps->pinpad_verify || c->inner != NULL)
		return CNIE_ERR_UNSUPPORTED;
	if ((r = find_pins(c, &p, NULL)) != 0)
		return r;
	max = pad_width(p);
	/*
	 * PIN_VERIFY_STRUCTURE (PC/SC part 10 2.5.2): ASCII digits, the
	 * block is the digits alone (card-profile.md 4: no padding), entry
	 * ended by the validation key; the APDU template VERIFY 00 20 00 ref.
	 */
	st[n++] = 30;	/* bTimerOut (seconds) */
	st[n++] = 0;	/* bTimerOut2: reader default */
	st[n++] = 0x82; /* bmFormatString: bytes, offset 0, left justified, ASCII */
	st[n++] = 0x00; /* bmPINBlockString: no length field, block = PIN */
	st[n++] = 0x00; /* bmPINLengthFormat */
	n += put_le(st + n, (p->min_len << 8) | (uint32_t)max, 2); /* wPINMaxExtraDigit */
	st[n++] = 0x02; /* bEntryValidationCondition: validation key */
	st[n++] = 0x01; /* bNumberMessage */
	n += put_le(st + n, 0x0409, 2); /* wLangId */
	st[n++] = 0;	/* bMsgIndex */
	st[n++] = 0;	/* bTeoPrologue */
	st[n++] = 0;
	st[n++] = 0;
	n += put_le(st + n, 5, 4); /* ulDataLength */
	st[n++] = 0x00;
	st[n++] = 0x20;
	st[n++] = 0x00;
	st[n++] = (uint8_t)p->reference;
	st[n++] = 0x00;
	if ((r = pinpad_ready(c)) != 0)
		return r;
	r = cnie_transport_control(c->t, caps->ioctl_verify, st, n, resp, &rl);
	return pinpad_done(c, r, resp, rl, tries_left);
}

static int
card_pin_change_pinpad(cnie_card *c, int *tries_left)
{
	const cnie_transport_caps *caps;
	const cnie_p15_pin *p;
	uint8_t st[64], resp[2];
	size_t n = 0, rl = sizeof(resp), w, i;
	int r;

	if (c == NULL)
		return CNIE_ERR_INVALID_ARG;
	caps = cnie_transport_get_caps(c->t);
	/* The reader sends the command itself, in plain: not inside secure messaging. */
	if (!caps->pinpad_modify || c->inner != NULL)
		return CNIE_ERR_UNSUPPORTED;
	if ((r = find_pins(c, &p, NULL)) != 0)
		return r;
	if ((p->flags & CNIE_P15_PIN_CHANGE_DISABLED) != 0)
		return CNIE_ERR_SW_NOT_ALLOWED;
	w = pad_width(p);
	/*
	 * PIN_MODIFY_STRUCTURE (PC/SC part 10 2.5.3): ASCII digits, each
	 * value in a block of w bytes (the PIN's max length) at offsets 0 and
	 * w of the template's data, left justified over the FF padding that
	 * the template already carries (card-profile.md 4: old(max) || new(max)).
	 */
	st[n++] = 30;	/* bTimerOut (seconds) */
	st[n++] = 0;	/* bTimerOut2: reader default */
	st[n++] = 0x82; /* bmFormatString: bytes, offset 0, left justified, ASCII */
	st[n++] = (uint8_t)w; /* bmPINBlockString: no length field, w-byte block */
	st[n++] = 0x00; /* bmPINLengthFormat */
	st[n++] = 0;	/* bInsertionOffsetOld */
	st[n++] = (uint8_t)w; /* bInsertionOffsetNew */
	n += put_le(st + n, (p->min_len << 8) | (uint32_t)w, 2); /* wPINMaxExtraDigit */
	st[n++] = 0x03; /* bConfirmPIN: current PIN, new PIN confirmed */
	st[n++] = 0x02; /* bEntryValidationCondition: validation key */
	st[n++] = 0x03; /* bNumberMessage: current, new, confirmation */
	n += put_le(st + n, 0x0409, 2); /* wLangId */
	st[n++] = 0;	/* bMsgIndex1 */
	st[n++] = 1;	/* bMsgIndex2 */
	st[n++] = 2;	/* bMsgIndex3 */
	st[n++] = 0;	/* bTeoPrologue */
	st[n++] = 0;
	st[n++] = 0;
	n += put_le(st + n, (uint32_t)(5 + 2 * w), 4); /* ulDataLength */
	st[n++] = 0x00;
	st[n++] = 0x24;
	st[n++] = 0x00;
	st[n++] = (uint8_t)p->reference;
	st[n++] = (uint8_t)(2 * w);
	for (i = 0; i < 2 * w; i++)
		st[n++] = 0xFF;
	if ((r = pinpad_ready(c)) != 0)
		return r;
	r = cnie_transport_control(c->t, caps->ioctl_modify, st, n, resp, &rl);
	return pinpad_done(c, r, resp, rl, tries_left);
}

static int
card_pin_change(cnie_card *c, const char *old_pin, const char *new_pin, int *tries_left)
{
	const cnie_p15_pin *p;
	uint8_t data[2 * CARD_PIN_MAX];
	cnie_apdu a;
	size_t no, nn, w;
	uint16_t sw;
	int r;

	if (c == NULL || old_pin == NULL || new_pin == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = find_pins(c, &p, NULL)) != 0 || (r = check_pin(p, old_pin, &no)) != 0 ||
	    (r = check_pin(p, new_pin, &nn)) != 0)
		return r;
	if ((p->flags & CNIE_P15_PIN_CHANGE_DISABLED) != 0)
		return CNIE_ERR_SW_NOT_ALLOWED;
	w = pad_width(p);
	put_padded(data, old_pin, no, w);
	put_padded(data + w, new_pin, nn, w);
	cnie_apdu_init(&a, 0x00, 0x24, 0x00, (uint8_t)p->reference);
	a.data = data;
	a.nc = 2 * w;
	a.flags = CNIE_APDU_SENSITIVE;
	r = card_xfer(c, &a, NULL, &sw);
	cnie_wipe(data, sizeof(data));
	if (r != 0)
		return r;
	return pin_result(sw, tries_left);
}

static int
card_pin_unblock(cnie_card *c, const char *puk, const char *new_pin, int *tries_left)
{
	const cnie_p15_pin *p, *u;
	uint8_t data[2 * CARD_PIN_MAX];
	cnie_apdu a;
	size_t nu, nn, wu, wp;
	uint16_t sw;
	int r;

	if (c == NULL || puk == NULL || new_pin == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((r = find_pins(c, &p, &u)) != 0 || (r = check_pin(u, puk, &nu)) != 0 ||
	    (r = check_pin(p, new_pin, &nn)) != 0)
		return r;
	if ((p->flags & CNIE_P15_PIN_UNBLOCK_DISABLED) != 0)
		return CNIE_ERR_SW_NOT_ALLOWED;
	wu = pad_width(u);
	wp = pad_width(p);
	put_padded(data, puk, nu, wu);
	put_padded(data + wu, new_pin, nn, wp);
	cnie_apdu_init(&a, 0x00, 0x2C, 0x00, (uint8_t)p->reference);
	a.data = data;
	a.nc = wu + wp;
	a.flags = CNIE_APDU_SENSITIVE;
	r = card_xfer(c, &a, NULL, &sw);
	cnie_wipe(data, sizeof(data));
	if (r != 0)
		return r;
	return pin_result(sw, tries_left);
}

/* ---- signatures -------------------------------------------------------- */

/* m's digest length and DigestInfo prefix (cnie/hash.h); 0 for NONE. */
static size_t
hash_len(cnie_card_hash h, const uint8_t **prefix, size_t *prefix_len)
{
	const cnie_hash_info *hi = cnie_hash_by_id(h);

	*prefix = hi != NULL ? hi->digest_info : NULL;
	*prefix_len = hi != NULL ? hi->digest_info_len : 0;
	return hi != NULL ? hi->len : 0;
}

/* Builds the card input for mech into buf; *alg gets DO 80. */
static int
sign_input(const cnie_card_key_info *k, const cnie_card_mech *m, const uint8_t *in,
    size_t in_len, uint8_t *buf, size_t cap, size_t *n, uint8_t *alg)
{
	const uint8_t *prefix;
	size_t pl, hl = hash_len(m->hash, &prefix, &pl);
	size_t klen = (k->bits + 7) / 8;

	if ((m->flags & ~(unsigned)CNIE_CARD_SIG_ECDSA_DER) != 0)
		return CNIE_ERR_INVALID_ARG;
	switch (m->type) {
	case CNIE_CARD_MECH_RSA_PKCS1:
		if (k->type != CNIE_CARD_KEY_RSA || hl == 0 || in_len != hl)
			return CNIE_ERR_INVALID_ARG;
		if (pl + hl > cap)
			return CNIE_ERR_INTERNAL;
		memcpy(buf, prefix, pl);
		memcpy(buf + pl, in, hl);
		*n = pl + hl;
		*alg = ALG_RSA_PKCS1;
		return 0;
	case CNIE_CARD_MECH_RSA_PKCS1_RAW:
		/* RFC 8017 8.2.1: the block must leave room for 11 bytes of padding. */
		if (k->type != CNIE_CARD_KEY_RSA || m->hash != CNIE_CARD_HASH_NONE ||
		    in_len == 0 || klen < 11 || in_len > klen - 11 || in_len > cap)
			return CNIE_ERR_INVALID_ARG;
		*alg = ALG_RSA_PKCS1;
		break;
	case CNIE_CARD_MECH_RSA_PSS:
		if (k->type != CNIE_CARD_KEY_RSA || hl == 0 || in_len != hl)
			return CNIE_ERR_INVALID_ARG;
		*alg = ALG_RSA_PSS;
		break;
	case CNIE_CARD_MECH_ECDSA:
		if (k->type != CNIE_CARD_KEY_EC || cnie_hash_by_len(in_len) == NULL ||
		    (hl != 0 && in_len != hl))
			return CNIE_ERR_INVALID_ARG;
		*alg = ALG_ECDSA;
		break;
	default:
		return CNIE_ERR_INVALID_ARG;
	}
	if (m->type != CNIE_CARD_MECH_ECDSA && (m->flags & CNIE_CARD_SIG_ECDSA_DER) != 0)
		return CNIE_ERR_INVALID_ARG;
	memcpy(buf, in, in_len);
	*n = in_len;
	return 0;
}

/* Largest output for the key and mechanism (sizes of RFC 3279 DER included). */
static size_t
sig_max(const cnie_card_key_info *k, const cnie_card_mech *m)
{
	size_t n = (k->bits + 7) / 8;

	if (k->type == CNIE_CARD_KEY_RSA)
		return n;
	if ((m->flags & CNIE_CARD_SIG_ECDSA_DER) == 0)
		return 2 * n;
	/* SEQUENCE { INTEGER r, INTEGER s }: each up to n+1 bytes, 3-byte headers. */
	return 2 * (n + 1 + 3) + 4;
}

/* r || s (BSI TR-03111 plain) to an ECDSA-Sig-Value (RFC 3279 2.2.3). */
static int
ecdsa_to_der(const uint8_t *rs, size_t n, uint8_t *out, size_t *out_len)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = out;
	int len, ret = CNIE_ERR_CRYPTO;

	if (n == 0 || n % 2 != 0)
		return CNIE_ERR_BAD_RESPONSE;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(rs, (int)(n / 2), NULL)) == NULL ||
	    (s = BN_bin2bn(rs + n / 2, (int)(n / 2), NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;
	if ((len = i2d_ECDSA_SIG(es, NULL)) <= 0)
		goto out;
	if ((size_t)len > *out_len) {
		ret = CNIE_ERR_BUFFER_TOO_SMALL;
		goto out;
	}
	if (i2d_ECDSA_SIG(es, &p) != len)
		goto out;
	*out_len = (size_t)len;
	ret = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ret;
}

static int
find_key(cnie_card *c, const uint8_t *id, size_t id_len, cnie_card_key_info *k)
{
	const cnie_p15_prkey *pk;
	int r;

	if ((r = load_p15(c)) != 0)
		return r;
	if ((r = cnie_p15_prkdf_find(c->prkdf, id, id_len, &pk)) != 0)
		return r;
	return key_info(pk, k);
}

/*
 * The cache's second content check: the first key operation whose
 * certificate came from the cache is verified with that certificate's
 * public key (CPU only, no APDU).  A card whose certificate was rewritten
 * under the same serial fails here: the cache is purged and the caller
 * gets CNIE_ERR_CARD_CHANGED instead of a signature that does not match
 * the certificate it was shown.  input is what the card processed (the
 * DigestInfo block, or the hash), sig the card's raw answer.
 */
static int
check_with_cert(cnie_card *c, const cnie_card_key_info *k, const cnie_card_mech *m,
    uint8_t alg, const uint8_t *input, size_t n, const uint8_t *sig, size_t sig_len)
{
	card_cert *cc = NULL;
	const uint8_t *p;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t rec[512], der[2 * 66 + 16];
	size_t i, rl = sizeof(rec), dl = sizeof(der);
	int r = CNIE_ERR_CARD_CHANGED, ok = 0;

	for (i = 0; i < c->ncerts; i++)
		if (c->certs[i].id_len == k->id_len &&
		    memcmp(c->certs[i].id, k->id, k->id_len) == 0)
			cc = &c->certs[i];
	if (cc == NULL || !cc->from_cache)
		return 0;
	p = cc->der;
	if ((x = d2i_X509(NULL, &p, (long)cc->der_len)) == NULL ||
	    (pk = X509_get0_pubkey(x)) == NULL || (ctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL)
		goto out;
	switch (alg) {
	case ALG_RSA_PKCS1:
		ok = EVP_PKEY_verify_recover_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_verify_recover(ctx, rec, &rl, sig, sig_len) == 1 && rl == n &&
		    CRYPTO_memcmp(rec, input, n) == 0;
		break;
	case ALG_RSA_PSS:
		ok = EVP_PKEY_verify_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(ctx, cnie_hash_md(m->hash)) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
		    EVP_PKEY_verify(ctx, sig, sig_len, input, n) == 1;
		break;
	case ALG_ECDSA:
		ok = ecdsa_to_der(sig, sig_len, der, &dl) == 0 && EVP_PKEY_verify_init(ctx) == 1 &&
		    EVP_PKEY_verify(ctx, der, dl, input, n) == 1;
		break;
	default:
		break;
	}
	if (ok) {
		cc->from_cache = false; /* this certificate matches the card: checked once */
		r = 0;
	}
out:
	if (r != 0) {
		cnie_log_info("card content differs from the cached certificate: cache purged");
		purge_cache(c);
	}
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	X509_free(x);
	return r;
}

/*
 * MSE:SET (DST B6 or AT A4) then the operation (7816-4 7.5.11), in the call's
 * transaction: the environment belongs to the current DF and to nobody else's
 * commands in between.
 */
static int
key_operation(cnie_card *c, bool internal_auth, const uint8_t *id, size_t id_len,
    const cnie_card_mech *m, const uint8_t *in, size_t in_len, uint8_t *sig, size_t *sig_len)
{
	cnie_card_key_info k;
	uint8_t input[512], mse[6];
	cnie_buf *resp = NULL;
	cnie_apdu a;
	size_t n, max, expect, nm;
	uint16_t sw;
	uint8_t alg;
	int r;

	if (c == NULL || id == NULL || m == NULL || sig_len == NULL || (in == NULL && in_len > 0))
		return CNIE_ERR_INVALID_ARG;
	if ((r = find_key(c, id, id_len, &k)) != 0)
		return r;
	if ((r = sign_input(&k, m, in, in_len, input, sizeof(input), &n, &alg)) != 0)
		goto out;
	max = sig_max(&k, m);
	if (sig == NULL) {
		*sig_len = max;
		goto out;
	}
	if (*sig_len < max) {
		*sig_len = max;
		r = CNIE_ERR_BUFFER_TOO_SMALL;
		goto out;
	}
	expect = k.type == CNIE_CARD_KEY_RSA ? (k.bits + 7) / 8 : 2 * ((k.bits + 7) / 8);
	if ((resp = cnie_buf_new()) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	/*
	 * DO 80 only when the algorithm is not the key's default (card-profile.md
	 * 5: RSA PKCS#1 v1.5, ECDSA): three bytes fewer on every signature.
	 */
	nm = 0;
	if (alg != (k.type == CNIE_CARD_KEY_RSA ? ALG_RSA_PKCS1 : ALG_ECDSA))
		mse[nm++] = 0x80, mse[nm++] = 0x01, mse[nm++] = alg;
	mse[nm++] = 0x84, mse[nm++] = 0x01, mse[nm++] = k.key_ref;
	cnie_apdu_init(&a, 0x00, 0x22, 0x41, internal_auth ? 0xA4 : 0xB6);
	a.data = mse;
	a.nc = nm;
	if ((r = card_xfer(c, &a, NULL, &sw)) != 0)
		goto out;
	if ((r = cnie_sw_to_error(sw)) != 0)
		goto out;
	if (internal_auth)
		cnie_apdu_init(&a, 0x00, 0x88, 0x00, 0x00);
	else
		cnie_apdu_init(&a, 0x00, 0x2A, 0x9E, 0x9A);
	a.data = input;
	a.nc = n;
	a.ne = expect;
	if ((r = card_xfer(c, &a, resp, &sw)) != 0)
		goto out;
	if ((r = cnie_sw_to_error(sw)) != 0)
		goto out;
	if (cnie_buf_len(resp) != expect) {
		r = CNIE_ERR_BAD_RESPONSE;
		goto out;
	}
	if ((r = check_with_cert(c, &k, m, alg, input, n, cnie_buf_ptr(resp), expect)) != 0)
		goto out;
	if (m->type == CNIE_CARD_MECH_ECDSA && (m->flags & CNIE_CARD_SIG_ECDSA_DER) != 0) {
		if ((r = ecdsa_to_der(cnie_buf_ptr(resp), cnie_buf_len(resp), sig, sig_len)) != 0)
			goto out;
	} else {
		memcpy(sig, cnie_buf_ptr(resp), expect);
		*sig_len = expect;
	}
out:
	cnie_wipe(input, sizeof(input));
	cnie_buf_free(&resp);
	return r;
}

static int
card_sign(cnie_card *c, const uint8_t *id, size_t id_len, const cnie_card_mech *mech,
    const uint8_t *in, size_t in_len, uint8_t *sig, size_t *sig_len)
{
	return key_operation(c, false, id, id_len, mech, in, in_len, sig, sig_len);
}

static int
card_internal_auth(cnie_card *c, const uint8_t *id, size_t id_len,
    const cnie_card_mech *mech, const uint8_t *in, size_t in_len, uint8_t *sig,
    size_t *sig_len)
{
	return key_operation(c, true, id, id_len, mech, in, in_len, sig, sig_len);
}

/* ---- public entry points: one transaction each (card-profile.md 9) ---- */

int
cnie_card_applications(cnie_card *c, cnie_p15_dir **out)
{
	return CARD_PUBLIC_CALL(c, card_applications(c, out));
}

int
cnie_card_serial(cnie_card *c, const char **out)
{
	return CARD_PUBLIC_CALL(c, card_serial(c, out));
}

int
cnie_card_label(cnie_card *c, const char **out)
{
	return CARD_PUBLIC_CALL(c, card_label(c, out));
}

int
cnie_card_key_count(cnie_card *c, size_t *n)
{
	return CARD_PUBLIC_CALL(c, card_key_count(c, n));
}

int
cnie_card_get_key(cnie_card *c, size_t i, cnie_card_key_info *info)
{
	return CARD_PUBLIC_CALL(c, card_get_key(c, i, info));
}

int
cnie_card_cert_count(cnie_card *c, size_t *n)
{
	return CARD_PUBLIC_CALL(c, card_cert_count(c, n));
}

int
cnie_card_get_cert(cnie_card *c, size_t i, cnie_card_cert_info *info)
{
	return CARD_PUBLIC_CALL(c, card_get_cert(c, i, info));
}

int
cnie_card_certificate(cnie_card *c, const uint8_t *id, size_t id_len, const uint8_t **der,
    size_t *der_len)
{
	return CARD_PUBLIC_CALL(c, card_certificate(c, id, id_len, der, der_len));
}

int
cnie_card_pin_status(cnie_card *c, int *tries_left, bool *blocked, bool *verified)
{
	return CARD_PUBLIC_CALL(c, card_pin_status(c, tries_left, blocked, verified));
}

int
cnie_card_logout(cnie_card *c)
{
	return CARD_PUBLIC_CALL(c, card_logout(c));
}

int
cnie_card_puk_status(cnie_card *c, int *tries_left, bool *blocked)
{
	return CARD_PUBLIC_CALL(c, card_puk_status(c, tries_left, blocked));
}

int
cnie_card_pin_verify(cnie_card *c, const char *pin, int *tries_left)
{
	return CARD_PUBLIC_CALL(c, card_pin_verify(c, pin, tries_left));
}

int
cnie_card_pin_verify_pinpad(cnie_card *c, int *tries_left)
{
	return CARD_PUBLIC_CALL(c, card_pin_verify_pinpad(c, tries_left));
}

int
cnie_card_pin_change_pinpad(cnie_card *c, int *tries_left)
{
	return CARD_PUBLIC_CALL(c, card_pin_change_pinpad(c, tries_left));
}

int
cnie_card_pin_change(cnie_card *c, const char *old_pin, const char *new_pin, int *tries_left)
{
	return CARD_PUBLIC_CALL(c, card_pin_change(c, old_pin, new_pin, tries_left));
}

int
cnie_card_pin_unblock(cnie_card *c, const char *puk, const char *new_pin, int *tries_left)
{
	return CARD_PUBLIC_CALL(c, card_pin_unblock(c, puk, new_pin, tries_left));
}

int
cnie_card_sign(cnie_card *c, const uint8_t *id, size_t id_len, const cnie_card_mech *mech,
    const uint8_t *in, size_t in_len, uint8_t *sig, size_t *sig_len)
{
	return CARD_PUBLIC_CALL(c, card_sign(c, id, id_len, mech, in, in_len, sig, sig_len));
}

int
cnie_card_internal_auth(cnie_card *c, const uint8_t *id, size_t id_len,
    const cnie_card_mech *mech, const uint8_t *in, size_t in_len, uint8_t *sig,
    size_t *sig_len)
{
	return CARD_PUBLIC_CALL(c, card_internal_auth(c, id, id_len, mech, in, in_len, sig, sig_len));
}
