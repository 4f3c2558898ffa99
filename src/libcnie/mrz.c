/*
 * Machine Readable Zone parser (ICAO Doc 9303-3 4.9 check digits, 9303-4
 * TD3, 9303-5 TD1, 9303-6 TD2).  The MRZ comes from DG1 (untrusted until
 * Passive Authentication) or from a user: nothing is assumed about it.
 */
#include <stdbool.h>
#include <string.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/mrz.h>

#include "mrz_internal.h"

#define MRZ_MAX 132 /* 3 x 44, more than any layout */

int
cnie_mrz_check_digit(const char *s, size_t n)
{
	static const int w[3] = { 7, 3, 1 };
	int sum = 0, v;
	size_t i;

	if (s == NULL && n != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			v = s[i] - '0';
		else if (s[i] >= 'A' && s[i] <= 'Z')
			v = s[i] - 'A' + 10;
		else if (s[i] == '<')
			v = 0;
		else
			return -1;
		sum = (sum + v * w[i % 3]) % 10;
	}
	return sum;
}

const char *
cnie_mrz_field_name(cnie_mrz_field f)
{
	switch (f) {
	case CNIE_MRZ_FIELD_NONE:
		return "none";
	case CNIE_MRZ_FIELD_LAYOUT:
		return "layout";
	case CNIE_MRZ_FIELD_CHARSET:
		return "character set";
	case CNIE_MRZ_FIELD_DOCUMENT_NUMBER:
		return "document number";
	case CNIE_MRZ_FIELD_BIRTH_DATE:
		return "date of birth";
	case CNIE_MRZ_FIELD_SEX:
		return "sex";
	case CNIE_MRZ_FIELD_EXPIRY_DATE:
		return "date of expiry";
	case CNIE_MRZ_FIELD_OPTIONAL_DATA:
		return "optional data";
	case CNIE_MRZ_FIELD_COMPOSITE:
		return "composite";
	}
	return "unknown";
}

void
cnie_mrz_clear(cnie_mrz *m)
{
	if (m != NULL)
		cnie_wipe(m, sizeof(*m));
}

/*
 * Joins the lines into one string: either no line break at all, or lines
 * of one of the three widths separated by "\n"/"\r\n" (one more allowed
 * at the end).  Returns the layout, CNIE_MRZ_UNKNOWN when wrong.
 */
static cnie_mrz_format
normalise(const char *s, size_t len, char *out, size_t *out_len)
{
	size_t i, n = 0, line = 0, width = 0, lines = 0;
	bool breaks = false;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n')
				return CNIE_MRZ_UNKNOWN;
			continue;
		}
		if (s[i] == '\n') {
			if (line == 0 || (width != 0 && line != width))
				return CNIE_MRZ_UNKNOWN;
			width = line;
			line = 0;
			lines++;
			breaks = true;
			continue;
		}
		if (n >= MRZ_MAX)
			return CNIE_MRZ_UNKNOWN;
		out[n++] = s[i];
		line++;
	}
	if (line != 0) {
		if (width != 0 && line != width)
			return CNIE_MRZ_UNKNOWN;
		width = line;
		lines++;
	}
	*out_len = n;
	if (!breaks)
		width = 0;
	if (n == 90 && (width == 0 || (width == 30 && lines == 3)))
		return CNIE_MRZ_TD1;
	if (n == 72 && (width == 0 || (width == 36 && lines == 2)))
		return CNIE_MRZ_TD2;
	if (n == 88 && (width == 0 || (width == 44 && lines == 2)))
		return CNIE_MRZ_TD3;
	return CNIE_MRZ_UNKNOWN;
}

/* Copies n characters and drops trailing fillers. */
static void
copy_trim(char *dst, size_t dst_size, const char *src, size_t n)
{
	if (n >= dst_size)
		n = dst_size - 1;
	memcpy(dst, src, n);
	while (n > 0 && dst[n - 1] == '<')
		n--;
	dst[n] = '\0';
}

/* A name part: '<' runs become one space, no leading or trailing space. */
static void
copy_name(char *dst, size_t dst_size, const char *src, size_t n)
{
	size_t i, o = 0;
	bool gap = false;

	for (i = 0; i < n && o + 1 < dst_size; i++) {
		if (src[i] == '<') {
			gap = o > 0;
			continue;
		}
		if (gap) {
			if (o + 2 >= dst_size)
				break;
			dst[o++] = ' ';
			gap = false;
		}
		dst[o++] = src[i];
	}
	dst[o] = '\0';
}

/* 9303-4 4.6: primary identifier, "<<", secondary identifier. */
static void
split_name(cnie_mrz *m, const char *f, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (f[i] == '<' && f[i + 1] == '<')
			break;
	if (i + 1 >= n) {
		copy_name(m->primary_identifier, sizeof(m->primary_identifier), f, n);
		m->secondary_identifier[0] = '\0';
		return;
	}
	copy_name(m->primary_identifier, sizeof(m->primary_identifier), f, i);
	copy_name(m->secondary_identifier, sizeof(m->secondary_identifier), f + i + 2,
	    n - i - 2);
}

/* A check digit at c over s[0..n): must be a digit and match. */
static int
check(const char *s, size_t n, char c)
{
	int d = cnie_mrz_check_digit(s, n);

	if (c < '0' || c > '9' || d < 0 || c - '0' != d)
		return CNIE_ERR_VERIFY_FAILED;
	return 0;
}

/*
 * YYMMDD: digits, or '<' for an unknown part (9303-3 4.6).  A known month
 * is 01..12 and a known day 01..31, and no more than its month has (29
 * for February: the century, hence leap years, is not in the MRZ).
 */
static bool
date_ok(const char *s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int month = 0, day;
	size_t i;

	for (i = 0; i < 6; i++)
		if ((s[i] < '0' || s[i] > '9') && s[i] != '<')
			return false;
	/* A part is either known (two digits) or unknown ("<<"). */
	for (i = 0; i < 6; i += 2)
		if ((s[i] == '<') != (s[i + 1] == '<'))
			return false;
	if (s[2] != '<') {
		month = (s[2] - '0') * 10 + (s[3] - '0');
		if (month < 1 || month > 12)
			return false;
	}
	if (s[4] != '<') {
		day = (s[4] - '0') * 10 + (s[5] - '0');
		if (day < 1 || day > (month != 0 ? mdays[month - 1] : 31))
			return false;
	}
	return true;
}

/*
 * The document number: 9 characters and a check digit, or (9303-5 4.2.4,
 * 9303-6 4.2.4) the first 9 characters, a filler in the check digit
 * position and the rest at the start of the optional data followed by
 * the check digit over the whole number and a filler.  *opt_used gets
 * how much of the optional data the overflow took.
 */
static int
document_number(cnie_mrz *m, const char *num, const char *opt, size_t opt_len,
    size_t *opt_used)
{
	char full[CNIE_MRZ_DOCNO_MAX];
	size_t k;

	*opt_used = 0;
	if (num[9] != '<') {
		if (check(num, 9, num[9]) != 0)
			return CNIE_ERR_VERIFY_FAILED;
		copy_trim(m->document_number, sizeof(m->document_number), num, 9);
		m->document_number_check = num[9];
		return 0;
	}
	/* Overflow: a run of non-fillers, the last of which is the check digit. */
	for (k = 0; k < opt_len && opt[k] != '<'; k++)
		;
	if (k < 2 || 9 + k - 1 >= sizeof(full) || num[8] == '<')
		return CNIE_ERR_ENCODING;
	memcpy(full, num, 9);
	memcpy(full + 9, opt, k - 1);
	if (check(full, 9 + k - 1, opt[k - 1]) != 0)
		return CNIE_ERR_VERIFY_FAILED;
	memcpy(m->document_number, full, 9 + k - 1);
	m->document_number[9 + k - 1] = '\0';
	m->document_number_check = opt[k - 1];
	*opt_used = k < opt_len ? k + 1 : k;
	return 0;
}

/* Birth date, sex and expiry date at b (b[0..15) as in TD1 line 2 / TD2-3 line 2 + 13). */
static int
dates_and_sex(cnie_mrz *m, const char *b, cnie_mrz_field *bad)
{
	if (!date_ok(b)) {
		*bad = CNIE_MRZ_FIELD_BIRTH_DATE;
		return CNIE_ERR_ENCODING;
	}
	if (check(b, 6, b[6]) != 0) {
		*bad = CNIE_MRZ_FIELD_BIRTH_DATE;
		return CNIE_ERR_VERIFY_FAILED;
	}
	if (b[7] != 'M' && b[7] != 'F' && b[7] != 'X' && b[7] != '<') {
		*bad = CNIE_MRZ_FIELD_SEX;
		return CNIE_ERR_ENCODING;
	}
	if (!date_ok(b + 8)) {
		*bad = CNIE_MRZ_FIELD_EXPIRY_DATE;
		return CNIE_ERR_ENCODING;
	}
	if (check(b + 8, 6, b[14]) != 0) {
		*bad = CNIE_MRZ_FIELD_EXPIRY_DATE;
		return CNIE_ERR_VERIFY_FAILED;
	}
	memcpy(m->birth_date, b, 6);
	m->birth_date[6] = '\0';
	m->birth_date_check = b[6];
	m->sex = b[7];
	memcpy(m->expiry_date, b + 8, 6);
	m->expiry_date[6] = '\0';
	m->expiry_date_check = b[14];
	return 0;
}

/* TD1, 9303-5 4.2.2: composite over line 1 6-30, line 2 1-7, 9-15, 19-29. */
static int
parse_td1(cnie_mrz *m, const char *z, bool strict, cnie_mrz_field *bad)
{
	const char *l1 = z, *l2 = z + 30, *l3 = z + 60;
	char comp[50];
	size_t used;
	int r;

	copy_trim(m->document_code, sizeof(m->document_code), l1, 2);
	copy_trim(m->issuing_state, sizeof(m->issuing_state), l1 + 2, 3);
	if ((r = document_number(m, l1 + 5, l1 + 15, 15, &used)) != 0) {
		*bad = CNIE_MRZ_FIELD_DOCUMENT_NUMBER;
		return r;
	}
	copy_trim(m->optional_data, sizeof(m->optional_data), l1 + 15 + used, 15 - used);
	if ((r = dates_and_sex(m, l2, bad)) != 0)
		return r;
	copy_trim(m->nationality, sizeof(m->nationality), l2 + 15, 3);
	copy_trim(m->optional_data2, sizeof(m->optional_data2), l2 + 18, 11);
	memcpy(comp, l1 + 5, 25);
	memcpy(comp + 25, l2, 7);
	memcpy(comp + 32, l2 + 8, 7);
	memcpy(comp + 39, l2 + 18, 11);
	if (strict && check(comp, sizeof(comp), l2[29]) != 0) {
		*bad = CNIE_MRZ_FIELD_COMPOSITE;
		return CNIE_ERR_VERIFY_FAILED;
	}
	split_name(m, l3, 30);
	return 0;
}

/*
 * TD2 (9303-6 4.2.2) and TD3 (9303-4 4.2.2): line 1 code, state, name;
 * line 2 number, check, nationality, birth, sex, expiry, optional data
 * (TD3: personal number and its check digit), composite over 1-10,
 * 14-20 and 22-(w-1).
 */
static int
parse_td23(cnie_mrz *m, const char *z, size_t w, bool strict, cnie_mrz_field *bad)
{
	const char *l1 = z, *l2 = z + w;
	char comp[42];
	size_t used = 0, opt_len = w - 29;
	int r;

	copy_trim(m->document_code, sizeof(m->document_code), l1, 2);
	copy_trim(m->issuing_state, sizeof(m->issuing_state), l1 + 2, 3);
	split_name(m, l1 + 5, w - 5);
	if (m->format == CNIE_MRZ_TD3) {
		/* TD3 has no overflow: position 10 is always the check digit. */
		if (check(l2, 9, l2[9]) != 0) {
			*bad = CNIE_MRZ_FIELD_DOCUMENT_NUMBER;
			return CNIE_ERR_VERIFY_FAILED;
		}
		copy_trim(m->document_number, sizeof(m->document_number), l2, 9);
		m->document_number_check = l2[9];
		opt_len = 14;
	} else if ((r = document_number(m, l2, l2 + 28, 7, &used)) != 0) {
		*bad = CNIE_MRZ_FIELD_DOCUMENT_NUMBER;
		return r;
	}
	copy_trim(m->nationality, sizeof(m->nationality), l2 + 10, 3);
	if ((r = dates_and_sex(m, l2 + 13, bad)) != 0)
		return r;
	copy_trim(m->optional_data, sizeof(m->optional_data), l2 + 28 + used, opt_len - used);
	if (strict && m->format == CNIE_MRZ_TD3) {
		/* 9303-4 4.2.2.2: the personal number's check digit may be a
		 * filler (or zero) when the personal number is all fillers. */
		if (!(l2[42] == '<' && m->optional_data[0] == '\0') &&
		    check(l2 + 28, 14, l2[42]) != 0) {
			*bad = CNIE_MRZ_FIELD_OPTIONAL_DATA;
			return CNIE_ERR_VERIFY_FAILED;
		}
	}
	memcpy(comp, l2, 10);
	memcpy(comp + 10, l2 + 13, 7);
	memcpy(comp + 17, l2 + 21, w - 22);
	if (strict && check(comp, 17 + w - 22, l2[w - 1]) != 0) {
		*bad = CNIE_MRZ_FIELD_COMPOSITE;
		return CNIE_ERR_VERIFY_FAILED;
	}
	return 0;
}

static int
mrz_parse(const char *s, size_t len, bool strict, cnie_mrz *out, cnie_mrz_field *bad)
{
	char z[MRZ_MAX];
	cnie_mrz_field dummy;
	size_t n = 0, i;
	int r;

	if (bad == NULL)
		bad = &dummy;
	*bad = CNIE_MRZ_FIELD_NONE;
	if (out == NULL || (s == NULL && len != 0))
		return CNIE_ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	if ((out->format = normalise(s, len, z, &n)) == CNIE_MRZ_UNKNOWN) {
		*bad = CNIE_MRZ_FIELD_LAYOUT;
		r = CNIE_ERR_ENCODING;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!((z[i] >= 'A' && z[i] <= 'Z') || (z[i] >= '0' && z[i] <= '9') ||
		    z[i] == '<')) {
			*bad = CNIE_MRZ_FIELD_CHARSET;
			r = CNIE_ERR_ENCODING;
			goto out;
		}
	}
	switch (out->format) {
	case CNIE_MRZ_TD1:
		r = parse_td1(out, z, strict, bad);
		break;
	case CNIE_MRZ_TD2:
		r = parse_td23(out, z, 36, strict, bad);
		break;
	default:
		r = parse_td23(out, z, 44, strict, bad);
		break;
	}
out:
	cnie_wipe(z, sizeof(z));
	if (r != 0)
		cnie_mrz_clear(out);
	return r;
}

int
cnie_mrz_parse(const char *s, size_t len, cnie_mrz *out, cnie_mrz_field *bad)
{
	return mrz_parse(s, len, true, out, bad);
}

int
cnie_mrz_parse_access(const char *s, size_t len, cnie_mrz *out, cnie_mrz_field *bad)
{
	return mrz_parse(s, len, false, out, bad);
}

int
cnie_mrz_access_info(const cnie_mrz *m, char *out, size_t out_len)
{
	size_t dn, pad;

	if (m == NULL || out == NULL || m->format == CNIE_MRZ_UNKNOWN)
		return CNIE_ERR_INVALID_ARG;
	dn = strnlen(m->document_number, sizeof(m->document_number));
	if (dn == 0 || dn >= sizeof(m->document_number))
		return CNIE_ERR_INVALID_ARG;
	pad = dn < 9 ? 9 - dn : 0;
	if (out_len < dn + pad + 1 + 14 + 1)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	memcpy(out, m->document_number, dn);
	memset(out + dn, '<', pad);
	out += dn + pad;
	*out++ = m->document_number_check;
	memcpy(out, m->birth_date, 6);
	out[6] = m->birth_date_check;
	memcpy(out + 7, m->expiry_date, 6);
	out[13] = m->expiry_date_check;
	out[14] = '\0';
	return 0;
}
