/*
 * Pure USB/PC-SC matching (usb_match.h).  Every input here is untrusted:
 * descriptors come from devices, Info.plist from a file, reader names from
 * pcscd.  Cursor plus remaining length everywhere; no index unchecked.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cnie/error.h>
#include <cnie/pcsc.h>

#include "usb_match.h"

bool
cnie_usb_is_ccid(const cnie_usb_dev *d)
{
	if (d == NULL)
		return false;
	if (d->device_class == CNIE_USB_CLASS_CCID)
		return true;
	for (size_t i = 0; i < d->n_ifaces && i < CNIE_USB_MAX_IFACES; i++)
		if (d->iface_class[i] == CNIE_USB_CLASS_CCID)
			return true;
	return false;
}

int
cnie_usb_parse_config(const uint8_t *p, size_t n, cnie_usb_dev *d)
{
	size_t off = 0, total;

	if (p == NULL || d == NULL)
		return CNIE_ERR_INVALID_ARG;
	d->n_ifaces = 0;
	/* The configuration descriptor: bLength >= 9, type 2, wTotalLength. */
	if (n < 9)
		return CNIE_ERR_TRUNCATED;
	if (p[0] < 9 || p[1] != 0x02)
		return CNIE_ERR_ENCODING;
	total = (size_t)p[2] | (size_t)p[3] << 8;
	if (total < p[0])
		return CNIE_ERR_ENCODING;
	if (total > n)
		return CNIE_ERR_TRUNCATED;
	off = p[0];
	while (off < total) {
		size_t left = total - off;
		uint8_t len, type;

		if (left < 2)
			return CNIE_ERR_TRUNCATED;
		len = p[off];
		type = p[off + 1];
		if (len < 2)
			return CNIE_ERR_ENCODING;
		if (len > left)
			return CNIE_ERR_TRUNCATED;
		if (type == 0x04) { /* interface */
			if (len < 9)
				return CNIE_ERR_ENCODING;
			/* Alternate settings repeat an interface: count each once. */
			if (p[off + 3] == 0 && d->n_ifaces < CNIE_USB_MAX_IFACES)
				d->iface_class[d->n_ifaces++] = p[off + 5];
		}
		off += len;
	}
	return 0;
}

/* ---- Info.plist ---------------------------------------------------------- */

typedef struct cur {
	const char *p;
	size_t n, off;
} cur;

/* Finds needle from c->off; moves past it.  false if absent. */
static bool
seek_past(cur *c, const char *needle)
{
	size_t l = strlen(needle);

	while (c->n - c->off >= l) {
		const char *hit = memchr(c->p + c->off, needle[0], c->n - c->off);

		if (hit == NULL)
			return false;
		c->off = (size_t)(hit - c->p);
		if (c->n - c->off < l)
			return false;
		if (memcmp(c->p + c->off, needle, l) == 0) {
			c->off += l;
			return true;
		}
		c->off++;
	}
	return false;
}

static void
skip_space(cur *c)
{
	while (c->off < c->n && isspace((unsigned char)c->p[c->off]))
		c->off++;
}

/* Skips whitespace and XML comments between elements. */
static int
skip_misc(cur *c)
{
	for (;;) {
		skip_space(c);
		if (c->n - c->off >= 4 && memcmp(c->p + c->off, "<!--", 4) == 0) {
			c->off += 4;
			if (!seek_past(c, "-->"))
				return CNIE_ERR_ENCODING;
			continue;
		}
		return 0;
	}
}

/*
 * The array of strings following <key>KEY</key>: calls fn per element.
 * Absent key: *count = SIZE_MAX.
 */
typedef int (*elem_fn)(void *arg, size_t i, const char *s, size_t len);

static int
read_array(const char *text, size_t n, const char *key, elem_fn fn, void *arg,
    size_t *count)
{
	char needle[64];
	cur c = { text, n, 0 };
	size_t i = 0;
	int r;

	snprintf(needle, sizeof(needle), "<key>%s</key>", key);
	*count = SIZE_MAX;
	if (!seek_past(&c, needle))
		return 0;
	if ((r = skip_misc(&c)) != 0)
		return r;
	if (c.n - c.off < 7 || memcmp(c.p + c.off, "<array>", 7) != 0)
		return CNIE_ERR_ENCODING;
	c.off += 7;
	for (;;) {
		size_t start;

		if ((r = skip_misc(&c)) != 0)
			return r;
		if (c.n - c.off >= 8 && memcmp(c.p + c.off, "</array>", 8) == 0)
			break;
		if (c.n - c.off < 8 || memcmp(c.p + c.off, "<string>", 8) != 0)
			return CNIE_ERR_ENCODING;
		c.off += 8;
		start = c.off;
		while (c.off < c.n && c.p[c.off] != '<')
			c.off++;
		if (c.n - c.off < 9 || memcmp(c.p + c.off, "</string>", 9) != 0)
			return CNIE_ERR_ENCODING;
		if (i >= CNIE_USB_PLIST_MAX_ENTRIES)
			return CNIE_ERR_TOO_LONG;
		if (fn != NULL && (r = fn(arg, i, c.p + start, c.off - start)) != 0)
			return r;
		c.off += 9;
		i++;
	}
	*count = i;
	return 0;
}

static int
parse_id(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len < 3 || len > 6 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return CNIE_ERR_ENCODING;
	for (size_t i = 2; i < len; i++) {
		int h = s[i];

		if (!isxdigit(h))
			return CNIE_ERR_ENCODING;
		v = v * 16 + (unsigned)(isdigit(h) ? h - '0' : (tolower(h) - 'a' + 10));
	}
	*out = (uint16_t)v;
	return 0;
}

struct fill {
	cnie_usb_ccid_list *l;
	int what; /* 0 vid, 1 pid, 2 name */
};

static int
fill_elem(void *arg, size_t i, const char *s, size_t len)
{
	struct fill *f = arg;
	cnie_usb_ccid_entry *e;
	size_t o = 0;

	if (i >= f->l->n)
		return CNIE_ERR_ENCODING;
	e = &f->l->e[i];
	if (f->what == 0)
		return parse_id(s, len, &e->vid);
	if (f->what == 1)
		return parse_id(s, len, &e->pid);
	for (size_t k = 0; k < len && o + 1 < sizeof(e->name); k++) {
		static const struct {
			const char *ent;
			char ch;
		} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' } };
		bool done = false;

		for (size_t t = 0; t < 3 && !done; t++) {
			size_t el = strlen(ents[t].ent);

			if (len - k >= el && memcmp(s + k, ents[t].ent, el) == 0) {
				e->name[o++] = ents[t].ch;
				k += el - 1;
				done = true;
			}
		}
		if (!done)
			e->name[o++] = (unsigned char)s[k] < 0x20 ? ' ' : s[k];
	}
	e->name[o] = '\0';
	return 0;
}

int
cnie_usb_ccid_list_parse(const char *text, size_t n, cnie_usb_ccid_list *out)
{
	size_t nv, np, nn;
	struct fill f;
	int r;

	if (text == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	out->e = NULL;
	out->n = 0;
	if (n > CNIE_USB_PLIST_MAX)
		return CNIE_ERR_TOO_LONG;
	/* First pass: counts (and syntax). */
	if ((r = read_array(text, n, "ifdVendorID", NULL, NULL, &nv)) != 0 ||
	    (r = read_array(text, n, "ifdProductID", NULL, NULL, &np)) != 0 ||
	    (r = read_array(text, n, "ifdFriendlyName", NULL, NULL, &nn)) != 0)
		return r;
	if (nv == SIZE_MAX || np == SIZE_MAX || nv != np || (nn != SIZE_MAX && nn != nv))
		return CNIE_ERR_ENCODING;
	if (nv == 0)
		return 0;
	if ((out->e = calloc(nv, sizeof(*out->e))) == NULL)
		return CNIE_ERR_NOMEM;
	out->n = nv;
	f.l = out;
	f.what = 0;
	if ((r = read_array(text, n, "ifdVendorID", fill_elem, &f, &nv)) != 0)
		goto fail;
	f.what = 1;
	if ((r = read_array(text, n, "ifdProductID", fill_elem, &f, &np)) != 0)
		goto fail;
	f.what = 2;
	if (nn != SIZE_MAX && (r = read_array(text, n, "ifdFriendlyName", fill_elem, &f, &nn)) != 0)
		goto fail;
	return 0;
fail:
	cnie_usb_ccid_list_free(out);
	return r;
}

void
cnie_usb_ccid_list_free(cnie_usb_ccid_list *l)
{
	if (l == NULL)
		return;
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

const cnie_usb_ccid_entry *
cnie_usb_ccid_find(const cnie_usb_ccid_list *l, uint16_t vid, uint16_t pid)
{
	if (l == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].vid == vid && l->e[i].pid == pid)
			return &l->e[i];
	return NULL;
}

/* ---- reader names -------------------------------------------------------- */

/* Lower-case, spaces collapsed, trimmed. */
static void
normalise(const char *in, char *out, size_t out_len)
{
	size_t o = 0;
	bool space = false;

	for (; *in != '\0' && o + 1 < out_len; in++) {
		unsigned char c = (unsigned char)*in;

		if (isspace(c) || c < 0x20) {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < out_len)
			out[o++] = ' ';
		space = false;
		out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
}

static bool
name_matches(const char *cand, const char *base)
{
	size_t l = strlen(cand);

	if (l == 0 || strncmp(cand, base, l) != 0)
		return false;
	return base[l] == '\0' || strncmp(base + l, " [", 2) == 0 ||
	    strncmp(base + l, " (", 2) == 0;
}

int
cnie_usb_match_reader(const cnie_usb_dev *d, const char *friendly, const char *const *readers,
    size_t n, const bool *used)
{
	char cands[3][2 * CNIE_USB_MAX_STR + 2];
	char tmp[2 * CNIE_USB_MAX_STR + 2];
	size_t nc = 0;

	if (d == NULL || readers == NULL)
		return -1;
	if (d->product[0] != '\0') {
		size_t ml = strlen(d->manufacturer);

		if (ml > 0 && strncasecmp(d->product, d->manufacturer, ml) != 0) {
			snprintf(tmp, sizeof(tmp), "%s %s", d->manufacturer, d->product);
			normalise(tmp, cands[nc++], sizeof(cands[0]));
		}
		normalise(d->product, cands[nc++], sizeof(cands[0]));
	}
	if (friendly != NULL && friendly[0] != '\0')
		normalise(friendly, cands[nc++], sizeof(cands[0]));
	for (size_t c = 0; c < nc; c++) {
		for (size_t i = 0; i < n; i++) {
			char base[512], nb[512];

			if (readers[i] == NULL || (used != NULL && used[i]))
				continue;
			cnie_pcsc_reader_base(readers[i], base, sizeof(base));
			normalise(base, nb, sizeof(nb));
			if (name_matches(cands[c], nb))
				return (int)i;
		}
	}
	return -1;
}
