/*
 * The card's file system: the MF, one DF per application, transparent EFs
 * (ISO 7816-4 clause 7.1 SELECT, 7.2 READ BINARY).  Two levels only,
 * as the card directory describes them (docs/card-dir.md).
 */
#include <string.h>

#include <cnie/error.h>
#include <cnie/tlv.h>

#include "emu_int.h"

#define FID_MF 0x3F00

/* A selection target: a DF (ef = -1) or an EF with its DF. */
struct target {
	int df; /* -1 = MF */
	int ef;
};

void
emu_fs_reset(cnie_emu *e)
{
	e->cur_df = -1;
	e->cur_ef = -1;
}

int
emu_fs_find_path(const cnie_emu *e, const char *path)
{
	size_t i;

	for (i = 0; i < e->nfiles; i++)
		if (strcmp(e->files[i].path, path) == 0)
			return (int)i;
	return -1;
}

static int
ef_in(const cnie_emu *e, int df, uint16_t fid)
{
	size_t i;

	for (i = 0; i < e->nfiles; i++)
		if (e->files[i].app == df && e->files[i].fid == fid)
			return (int)i;
	return -1;
}

static int
ef_by_sfi(const cnie_emu *e, int df, uint8_t sfi)
{
	size_t i;

	for (i = 0; i < e->nfiles; i++)
		if (e->files[i].app == df && e->files[i].sfi == sfi)
			return (int)i;
	return -1;
}

static int
df_by_fid(const cnie_emu *e, uint16_t fid)
{
	size_t i;

	for (i = 0; i < e->napps; i++)
		if (e->apps[i].fid == fid)
			return (int)i;
	return -1;
}

static uint16_t
fid_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Resolves one FID from the DF df (ISO 7816-4 7.1.1, P1 = 00): the MF,
 * an EF of df, or an application DF (children of the MF; a sibling DF is
 * also found, as most cards do).
 */
static bool
resolve_any(const cnie_emu *e, int df, uint16_t fid, struct target *t)
{
	int i;

	if (fid == FID_MF) {
		t->df = -1;
		t->ef = -1;
		return true;
	}
	if ((i = ef_in(e, df, fid)) >= 0) {
		t->df = df;
		t->ef = i;
		return true;
	}
	if ((i = df_by_fid(e, fid)) >= 0) {
		t->df = i;
		t->ef = -1;
		return true;
	}
	return false;
}

/* A path (P1 = 08 from the MF, 09 from the current DF): DFs then a last DF or EF. */
static bool
resolve_path(const cnie_emu *e, int df, const uint8_t *p, size_t n, struct target *t)
{
	size_t i;
	int d;

	for (i = 0; i + 2 < n; i += 2) {
		/* Inner components are DFs below df: only the MF has child DFs. */
		if (df != -1 || (d = df_by_fid(e, fid_at(p + i))) < 0)
			return false;
		df = d;
	}
	t->df = df;
	if ((t->ef = ef_in(e, df, fid_at(p + i))) >= 0)
		return true;
	if (df == -1 && (d = df_by_fid(e, fid_at(p + i))) >= 0) {
		t->df = d;
		t->ef = -1;
		return true;
	}
	return false;
}

/* File control parameters (ISO 7816-4 7.4.3, table 12). */
static int
put_fcp(const cnie_emu *e, const struct target *t, cnie_buf *resp)
{
	size_t mark;
	uint8_t fid[2], size[3];
	uint16_t f;
	size_t len;
	int r;

	if ((r = cnie_tlv_open(resp, 0x62, &mark)) != 0)
		return r;
	if (t->ef >= 0) {
		len = e->files[t->ef].len;
		size[0] = (uint8_t)(len >> 16);
		size[1] = (uint8_t)(len >> 8);
		size[2] = (uint8_t)len;
		/* 80: data bytes in the EF, on 2 bytes unless larger. */
		if ((r = cnie_tlv_put(resp, 0x80, len > 0xFFFF ? size : size + 1,
		    len > 0xFFFF ? 3 : 2)) != 0 ||
		    (r = cnie_tlv_put(resp, 0x82, "\x01", 1)) != 0) /* working EF, transparent */
			return r;
		f = e->files[t->ef].fid;
	} else {
		if ((r = cnie_tlv_put(resp, 0x82, "\x38", 1)) != 0) /* DF */
			return r;
		f = t->df < 0 ? FID_MF : e->apps[t->df].fid;
	}
	fid[0] = (uint8_t)(f >> 8);
	fid[1] = (uint8_t)f;
	if ((r = cnie_tlv_put(resp, 0x83, fid, 2)) != 0)
		return r;
	if (t->ef < 0 && t->df >= 0 &&
	    (r = cnie_tlv_put(resp, 0x84, e->apps[t->df].aid, e->apps[t->df].aid_len)) != 0)
		return r;
	/* 8A 05: life cycle status "operational state (activated)". */
	if ((r = cnie_tlv_put(resp, 0x8A, "\x05", 1)) != 0)
		return r;
	return cnie_tlv_close(resp, mark);
}

int
emu_fs_select(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	struct target t = { -1, -1 };
	bool found = false;
	size_t i;

	/* P2: first occurrence only; FCI (00) and FCP (04) both give the FCP, 0C nothing. */
	if (a->p2 != 0x00 && a->p2 != 0x04 && a->p2 != 0x0C) {
		*sw = SW_WRONG_P1P2;
		return 0;
	}
	switch (a->p1) {
	case 0x00:
		if (a->nc == 0) {
			found = true; /* no data: the MF */
			break;
		}
		if (a->nc != 2)
			goto wrong_length;
		found = resolve_any(e, e->cur_df, fid_at(a->data), &t);
		break;
	case 0x01: /* child DF */
		if (a->nc != 2)
			goto wrong_length;
		if (e->cur_df == -1 && (t.df = df_by_fid(e, fid_at(a->data))) >= 0)
			found = true;
		break;
	case 0x02: /* EF under the current DF */
		if (a->nc != 2)
			goto wrong_length;
		t.df = e->cur_df;
		found = (t.ef = ef_in(e, e->cur_df, fid_at(a->data))) >= 0;
		break;
	case 0x03: /* parent DF of the current DF */
		if (a->nc != 0)
			goto wrong_length;
		found = e->cur_df >= 0;
		break;
	case 0x04: /* DF name: exact match on the AID */
		if (a->nc == 0) {
			found = true;
			break;
		}
		if (a->nc > EMU_AID_MAX)
			goto wrong_length;
		for (i = 0; i < e->napps && !found; i++)
			if (e->apps[i].aid_len == a->nc &&
			    memcmp(e->apps[i].aid, a->data, a->nc) == 0) {
				t.df = (int)i;
				found = true;
			}
		break;
	case 0x08: /* path from the MF, without the MF's own FID */
	case 0x09: /* path from the current DF */
		if (a->nc == 0 || a->nc % 2 != 0 || a->nc > 8)
			goto wrong_length;
		found = resolve_path(e, a->p1 == 0x08 ? -1 : e->cur_df, a->data, a->nc, &t);
		break;
	default:
		*sw = SW_WRONG_P1P2;
		return 0;
	}
	if (!found) {
		/* A failed SELECT leaves the current files as they were. */
		*sw = SW_NOT_FOUND;
		return 0;
	}
	if (t.df != e->cur_df) {
		/* The security environment belongs to the DF (ISO 7816-4 5.4). */
		emu_pki_reset(e);
	}
	e->cur_df = t.df;
	e->cur_ef = t.ef;
	*sw = SW_OK;
	if (a->p2 == 0x0C)
		return 0;
	return put_fcp(e, &t, resp);
wrong_length:
	*sw = SW_WRONG_LENGTH;
	return 0;
}

static bool
may_read(const cnie_emu *e, const struct emu_file *f)
{
	int p;

	switch (f->read) {
	case EMU_ACC_ALWAYS:
		return true;
	case EMU_ACC_PIN:
		return (p = emu_pin_user(e)) >= 0 && e->pins[p].verified;
	case EMU_ACC_SM:
		return e->cmd_sm;
	default:
		return false;
	}
}

/* Largest content c such that 53 || len(c) || c fits in ne bytes (Ne <= 65536). */
static size_t
fit_do53(size_t ne)
{
	if (ne < 2)
		return 0;
	if (ne - 2 <= 127)
		return ne - 2; /* 53 L */
	if (ne - 3 < 128)
		return 127;
	if (ne - 3 <= 255)
		return ne - 3; /* 53 81 L */
	if (ne - 4 < 256)
		return 255;
	return ne - 4;	       /* 53 82 LL */
}

/* Offset DO 54 of READ BINARY odd INS (ISO 7816-4 7.2.2): 1..4 bytes. */
static int
get_offset_do(const cnie_apdu *a, size_t *off)
{
	cnie_tlv t;
	size_t i;

	if (cnie_tlv_parse_one(a->data, a->nc, &t) != 0 || t.tag != 0x54 || t.len < 1 ||
	    t.len > 4 || t.hdr_len + t.len != a->nc)
		return CNIE_ERR_ENCODING;
	*off = 0;
	for (i = 0; i < t.len; i++)
		*off = *off << 8 | t.value[i];
	return 0;
}

int
emu_fs_read_binary(cnie_emu *e, const cnie_apdu *a, cnie_buf *resp, uint16_t *sw)
{
	const struct emu_file *f;
	size_t off = 0, avail, n, room;
	uint8_t sfi = 0;
	int fi = -1, r;

	if (a->ins == 0xB0) {
		if (a->nc != 0)
			goto wrong_length;
		if ((a->p1 & 0x80) != 0) {
			/* P1 = 100xxxxx: SFI, P2 = offset (ISO 7816-4 7.2.2). */
			if ((a->p1 & 0x60) != 0)
				goto wrong_p1p2;
			sfi = a->p1 & 0x1F;
			off = a->p2;
		} else {
			off = (size_t)((a->p1 & 0x7F) << 8 | a->p2);
		}
	} else {
		if (a->nc == 0)
			goto wrong_length;
		if (get_offset_do(a, &off) != 0) {
			*sw = SW_WRONG_DATA;
			return 0;
		}
		/* P1-P2: 0000 current EF; 00 000xxxxx an SFI; else a FID. */
		if (a->p1 == 0 && a->p2 != 0 && (a->p2 & 0xE0) == 0) {
			sfi = a->p2 & 0x1F;
		} else if (a->p1 != 0 || a->p2 != 0) {
			if ((fi = ef_in(e, e->cur_df, fid_at(&a->p1))) < 0) {
				*sw = SW_NOT_FOUND;
				return 0;
			}
		}
	}
	if (a->ne == 0)
		goto wrong_length;
	if (sfi != 0) {
		if (sfi == 0x1F)
			goto wrong_p1p2;
		if ((fi = ef_by_sfi(e, e->cur_df, sfi)) < 0) {
			*sw = SW_NOT_FOUND;
			return 0;
		}
	} else if (fi < 0) {
		if (((a->ins == 0xB0 && (a->p1 & 0x80) != 0)))
			goto wrong_p1p2;
		if ((fi = e->cur_ef) < 0) {
			*sw = SW_NO_CURRENT_EF;
			return 0;
		}
	}
	/* Referencing a file by SFI or FID makes it the current EF. */
	e->cur_ef = fi;
	f = &e->files[fi];
	if (!may_read(e, f)) {
		*sw = SW_SECURITY;
		return 0;
	}
	if (off >= f->len) {
		*sw = SW_OFFSET;
		return 0;
	}
	avail = f->len - off;
	if (a->ins == 0xB0) {
		n = avail < a->ne ? avail : a->ne;
		if ((r = cnie_buf_put(resp, f->data + off, n)) != 0)
			return r;
		/* Fewer bytes than Ne: end of file reached (ISO 7816-4 7.2.3). */
		*sw = n < a->ne ? SW_EOF : SW_OK;
		return 0;
	}
	if ((room = fit_do53(a->ne)) == 0)
		goto wrong_length;
	n = avail < room ? avail : room;
	if ((r = cnie_tlv_put(resp, 0x53, f->data + off, n)) != 0)
		return r;
	*sw = n < room ? SW_EOF : SW_OK;
	return 0;
wrong_length:
	*sw = SW_WRONG_LENGTH;
	return 0;
wrong_p1p2:
	*sw = SW_WRONG_P1P2;
	return 0;
}
