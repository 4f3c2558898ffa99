/*
 * PC/SC part 10 secure PIN entry: the structures a client sends with
 * FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT and the formatting
 * of the PIN into the command APDU, as a CCID PIN-pad reader does it
 * (USB CCID rev 1.1, 6.1.11.7 and 6.1.11.8; PC/SC part 10 v2.02.09 2.5).
 *
 * The structures come from any local PC/SC client: every field is checked
 * against the received size before use, and the template is rebuilt into
 * a fresh buffer, never patched in place.  Nothing here logs: PINs pass
 * through this file.
 *
 * Multi-byte fields are little-endian, as on the USB wire (CCID 6.1.11)
 * and as OpenSC, the CCID driver and libcnie send them.
 */
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>

#include "ifd.h"

/* Sizes of the fixed parts before abData (reader.h, packed). */
#define VERIFY_HDR 19
#define MODIFY_HDR 24
#define SHORT_DATA_MAX 255

/* bmFormatString (CCID 6.1.11.7). */
#define FMT_UNITS_BYTES 0x80
#define FMT_POS(f) (((f) >> 3) & 0x0F)
#define FMT_RIGHT 0x04
#define FMT_TYPE(f) ((f)&0x03)
#define FMT_BINARY 0
#define FMT_BCD 1
#define FMT_ASCII 2
/* bmPINLengthFormat. */
#define LEN_UNITS_BYTES 0x10
#define LEN_POS(f) ((f)&0x0F)

static int
get_le16(cnie_cur *c, uint16_t *v)
{
	uint8_t b[2];
	int r;

	if ((r = cnie_cur_copy(c, b, sizeof(b))) != 0)
		return r;
	*v = (uint16_t)(b[0] | (b[1] << 8));
	return 0;
}

static int
get_le32(cnie_cur *c, uint32_t *v)
{
	uint8_t b[4];
	int r;

	if ((r = cnie_cur_copy(c, b, sizeof(b))) != 0)
		return r;
	*v = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
	    ((uint32_t)b[3] << 24);
	return 0;
}

int
ifd_pin_parse(const uint8_t *p, size_t n, bool modify, struct ifd_pin_req *req)
{
	cnie_cur c;
	uint16_t extra = 0, lang = 0;
	uint32_t dlen = 0;
	uint8_t timeout2 = 0, validation = 0, nmsg = 0, msg[3], teo[3];
	int r;

	if (req == NULL || (p == NULL && n != 0))
		return CNIE_ERR_INVALID_ARG;
	memset(req, 0, sizeof(*req));
	req->modify = modify;
	cnie_cur_init(&c, p, n);
	cnie_cur_u8(&c, &req->timeout);
	cnie_cur_u8(&c, &timeout2);
	cnie_cur_u8(&c, &req->fmt);
	cnie_cur_u8(&c, &req->block);
	cnie_cur_u8(&c, &req->lenfmt);
	if (modify) {
		cnie_cur_u8(&c, &req->off_old);
		cnie_cur_u8(&c, &req->off_new);
	}
	get_le16(&c, &extra);
	if (modify)
		cnie_cur_u8(&c, &req->confirm);
	cnie_cur_u8(&c, &validation);
	cnie_cur_u8(&c, &nmsg);
	get_le16(&c, &lang);
	cnie_cur_copy(&c, msg, modify ? 3 : 1);
	cnie_cur_copy(&c, teo, sizeof(teo));
	get_le32(&c, &dlen);
	if (c.err != 0)
		return c.err;
	/* ulDataLength must describe exactly the bytes that follow. */
	if (dlen != cnie_cur_left(&c))
		return dlen > cnie_cur_left(&c) ? CNIE_ERR_TRUNCATED : CNIE_ERR_TRAILING;
	/* A short APDU: header, Lc, at most 255 data bytes, Le. */
	if (dlen < 4 || dlen > 4 + 1 + SHORT_DATA_MAX + 1)
		return CNIE_ERR_ENCODING;
	if ((r = cnie_cur_take(&c, dlen, &req->apdu)) != 0)
		return r;
	req->apdu_len = dlen;
	/* wPINMaxExtraDigit = XXYY: XX minimum, YY maximum digits. */
	req->min = (uint8_t)(extra >> 8);
	req->max = (uint8_t)(extra & 0xFF);
	if (req->max == 0 || req->max > IFD_PIN_MAX)
		req->max = IFD_PIN_MAX;
	if (req->min > req->max)
		return CNIE_ERR_ENCODING;
	if (FMT_TYPE(req->fmt) == 3)
		return CNIE_ERR_ENCODING; /* RFU */
	if (modify && (req->confirm & ~(IFD_PIN_CONFIRM_NEW | IFD_PIN_CONFIRM_CURRENT)) != 0)
		return CNIE_ERR_UNSUPPORTED; /* advanced modify (b2) and RFU bits */
	(void)timeout2;
	(void)validation;
	(void)nmsg;
	(void)lang;
	return cnie_cur_end(&c);
}

/* Writes the low nbits of v at bit offset pos of d (bit 0 = MSB of d[0]). */
static int
put_bits(uint8_t *d, size_t dlen, size_t pos, unsigned nbits, unsigned v)
{
	unsigned i;

	if (nbits > 16 || pos > dlen * 8 || nbits > dlen * 8 - pos)
		return CNIE_ERR_ENCODING;
	for (i = 0; i < nbits; i++) {
		size_t b = pos + i;
		uint8_t mask = (uint8_t)(0x80u >> (b & 7));

		if ((v >> (nbits - 1 - i)) & 1u)
			d[b >> 3] |= mask;
		else
			d[b >> 3] &= (uint8_t)~mask;
	}
	return 0;
}

/* Bits one digit takes in the PIN block. */
static unsigned
digit_bits(uint8_t fmt)
{
	return FMT_TYPE(fmt) == FMT_BCD ? 4 : 8;
}

/*
 * Where a PIN and its length go, in bits from the first data byte.  The
 * positions of bmFormatString and bmPINLengthFormat are shifted by the
 * insertion offset (bytes) of the PIN being placed (0 for VERIFY).
 */
static size_t
pin_pos(const struct ifd_pin_req *req, size_t off)
{
	size_t pos = FMT_POS(req->fmt);

	return off * 8 + ((req->fmt & FMT_UNITS_BYTES) ? pos * 8 : pos);
}

static size_t
len_pos(const struct ifd_pin_req *req, size_t off)
{
	size_t pos = LEN_POS(req->lenfmt);

	return off * 8 + ((req->lenfmt & LEN_UNITS_BYTES) ? pos * 8 : pos);
}

/* Bits of the PIN block: bmPINBlockString b3-b0 bytes, 0 = just the digits. */
static size_t
block_bits(const struct ifd_pin_req *req, size_t ndigits)
{
	size_t b = (size_t)(req->block & 0x0F) * 8;

	return b != 0 ? b : ndigits * digit_bits(req->fmt);
}

/* Data bytes needed to hold a PIN of n digits at offset off. */
static size_t
pin_extent(const struct ifd_pin_req *req, size_t off, size_t n)
{
	size_t end = pin_pos(req, off) + block_bits(req, n);
	unsigned lbits = req->block >> 4;

	if (lbits != 0 && len_pos(req, off) + lbits > end)
		end = len_pos(req, off) + lbits;
	return (end + 7) / 8;
}

static int
check_pin(const struct ifd_pin_req *req, const char *pin, size_t n)
{
	size_t i;

	if (pin == NULL || n < req->min || n > req->max || n == 0)
		return CNIE_ERR_PIN_FORMAT;
	for (i = 0; i < n; i++) {
		if (pin[i] < '0' || pin[i] > '9')
			return CNIE_ERR_PIN_FORMAT;
	}
	/* The digits must fit the block and the length its field. */
	if (n * digit_bits(req->fmt) > block_bits(req, n))
		return CNIE_ERR_PIN_FORMAT;
	if ((req->block >> 4) != 0 && (req->block >> 4) < 8 && n >= (1u << (req->block >> 4)))
		return CNIE_ERR_PIN_FORMAT;
	return 0;
}

static int
place_pin(const struct ifd_pin_req *req, uint8_t *d, size_t dlen, size_t off, const char *pin,
    size_t n)
{
	size_t start = pin_pos(req, off), bits = block_bits(req, n);
	unsigned unit = digit_bits(req->fmt), lbits = req->block >> 4;
	size_t i;
	int r;

	/* Justification inside the block (CCID 6.1.11.7 bmFormatString b2). */
	if (req->fmt & FMT_RIGHT)
		start += bits - n * unit;
	for (i = 0; i < n; i++) {
		unsigned v = (unsigned)(pin[i] - '0');

		if (FMT_TYPE(req->fmt) == FMT_ASCII)
			v += '0';
		if ((r = put_bits(d, dlen, start + i * unit, unit, v)) != 0)
			return r;
	}
	if (lbits != 0 && (r = put_bits(d, dlen, len_pos(req, off), lbits, (unsigned)n)) != 0)
		return r;
	return 0;
}

int
ifd_pin_build(const struct ifd_pin_req *req, const char *old, size_t old_len,
    const char *new_pin, size_t new_len, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t data[SHORT_DATA_MAX];
	const uint8_t *hdr, *tdata = NULL;
	size_t lc = 0, dlen, need, off_new = 0;
	bool has_le = false, want_old;
	uint8_t lc8 = 0, le = 0;
	cnie_cur c;
	int r;

	if (req == NULL || out == NULL || out_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out_len = 0;
	want_old = req->modify && (req->confirm & IFD_PIN_CONFIRM_CURRENT) != 0;
	if ((r = check_pin(req, new_pin, new_len)) != 0)
		return r;
	if (want_old && (r = check_pin(req, old, old_len)) != 0)
		return r;

	/* Template: CLA INS P1 P2 [Lc data] [Le], short form only. */
	cnie_cur_init(&c, req->apdu, req->apdu_len);
	if ((r = cnie_cur_take(&c, 4, &hdr)) != 0)
		return r;
	if (cnie_cur_left(&c) > 0) {
		if ((r = cnie_cur_u8(&c, &lc8)) != 0)
			return r;
		lc = lc8;
		/* A lone fifth byte is an empty Lc placeholder only when it is 00. */
		if (cnie_cur_left(&c) == 0 && lc != 0)
			return CNIE_ERR_ENCODING;
		if (cnie_cur_left(&c) > 0 && lc == 0)
			return CNIE_ERR_ENCODING; /* extended length: not for PIN blocks */
		if ((r = cnie_cur_take(&c, lc, &tdata)) != 0)
			return r;
		if (cnie_cur_left(&c) == 1) {
			has_le = true;
			cnie_cur_u8(&c, &le);
		}
		if ((r = cnie_cur_end(&c)) != 0)
			return r;
	}
	dlen = lc;
	memset(data, 0, sizeof(data));
	if (lc != 0)
		memcpy(data, tdata, lc);

	/*
	 * The blocks must lie inside the template's data field; with a block
	 * size of 0 (variable-length PIN) the reader extends the field to the
	 * digits actually entered and sets Lc (CCID 6.1.11.7 bmPINBlockString).
	 */
	if (req->modify)
		off_new = req->off_new;
	need = pin_extent(req, off_new, new_len);
	if (want_old && pin_extent(req, req->off_old, old_len) > need)
		need = pin_extent(req, req->off_old, old_len);
	if (need > dlen) {
		if ((req->block & 0x0F) != 0 || need > SHORT_DATA_MAX)
			return CNIE_ERR_ENCODING;
		dlen = need;
	}
	if (want_old && (r = place_pin(req, data, dlen, req->off_old, old, old_len)) != 0)
		goto out;
	if ((r = place_pin(req, data, dlen, off_new, new_pin, new_len)) != 0)
		goto out;
	if (cap < 4 + 1 + dlen + (has_le ? 1 : 0)) {
		r = CNIE_ERR_BUFFER_TOO_SMALL;
		goto out;
	}
	memcpy(out, hdr, 4);
	out[4] = (uint8_t)dlen;
	memcpy(out + 5, data, dlen);
	*out_len = 5 + dlen;
	if (has_le)
		out[(*out_len)++] = le;
	r = 0;
out:
	cnie_wipe(data, sizeof(data));
	return r;
}
