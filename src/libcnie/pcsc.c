/*
 * PC/SC transport over pcsc-lite's winscard API: see include/cnie/pcsc.h.
 *
 * Three things matter here beyond moving bytes:
 *  - every SCARD_* code goes through one table (cnie_pcsc_error) so that
 *    "pcscd not running", "no reader", "no card" and "card held by another
 *    program" reach the user as distinct errors;
 *  - waiting for reader and card events is cancellable from another thread
 *    (SCardCancel is the one winscard call pcsc-lite allows concurrently on
 *    a context);
 *  - capabilities come from the reader (PC/SC part 10 features,
 *    SCARD_ATTR_MAXINPUT) and the ATR, both parsed through cnie_cur because
 *    they come from outside the process.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>
#include <PCSC/reader.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/pcsc.h>
#include <cnie/reader_pace.h>
#include <cnie/transport.h>

/* The pseudo-reader that reports readers being added or removed. */
#define PNP_READER "\\\\?PnP?\\Notification"
/*
 * pcsc-lite refuses SCardGetStatusChange with more than
 * PCSCLITE_MAX_READERS_CONTEXTS entries; one is the PnP pseudo-reader.
 */
#define WATCH_MAX (PCSCLITE_MAX_READERS_CONTEXTS - 1)
/* Upper bound on the reader list we accept from pcscd (bytes, names). */
#define READERS_BUF_MAX (64u * 1024u)
#define READERS_MAX 64
/* Longest single blocking wait: bounds how late a lost cancel is seen. */
#define WAIT_SLICE_MS 1000
/* Short APDU limits (ISO 7816-4 5.1): 4 + 1 + 255 + 1, and 256 + SW. */
#define SHORT_CMD_MAX 261
#define SHORT_RESP_MAX 258
/* Part 10 feature list: at most one entry per feature tag (0x01..0xFF). */
#define FEATURES_BUF_MAX (256 * 6)

struct cnie_pcsc {
	SCARDCONTEXT h;
	/* One reference for the owner, one per open transport. */
	atomic_uint refs;
	/* Set by cnie_pcsc_cancel, consumed by the wait it cancels. */
	atomic_bool cancel;
	/*
	 * Last observed reader set and states: the baseline wait_change
	 * compares against, so a change between two calls is not lost
	 * (pcsc-lite 1.9.9 only reports PnP changes made during a wait).
	 */
	pthread_mutex_t mu;
	bool snap_valid;
	size_t snap_n;
	char *snap_names[WATCH_MAX];
	DWORD snap_state[WATCH_MAX];
	bool snap_truncated; /* more readers than we can watch */
	size_t snap_total;   /* readers in the system */
};

/* ---- error mapping -------------------------------------------------- */

static const struct {
	LONG rv;
	int err;
} pcsc_errors[] = {
	{ SCARD_S_SUCCESS, CNIE_OK },
	{ SCARD_E_NO_SERVICE, CNIE_ERR_NO_SERVICE },
	{ SCARD_E_SERVICE_STOPPED, CNIE_ERR_NO_SERVICE },
	{ SCARD_E_NO_READERS_AVAILABLE, CNIE_ERR_NO_READER },
	{ SCARD_E_UNKNOWN_READER, CNIE_ERR_READER_NOT_FOUND },
	{ SCARD_E_READER_UNAVAILABLE, CNIE_ERR_READER_NOT_FOUND },
	{ SCARD_E_NO_SMARTCARD, CNIE_ERR_NO_CARD },
	{ SCARD_W_REMOVED_CARD, CNIE_ERR_CARD_REMOVED },
	{ SCARD_W_RESET_CARD, CNIE_ERR_CARD_RESET },
	{ SCARD_E_SHARING_VIOLATION, CNIE_ERR_SHARING },
	{ SCARD_E_TIMEOUT, CNIE_ERR_TIMEOUT },
	{ SCARD_E_CANCELLED, CNIE_ERR_CANCELLED },
	{ SCARD_E_SYSTEM_CANCELLED, CNIE_ERR_CANCELLED },
	{ SCARD_W_CANCELLED_BY_USER, CNIE_ERR_CANCELLED },
	{ SCARD_W_UNRESPONSIVE_CARD, CNIE_ERR_UNRESPONSIVE },
	{ SCARD_W_UNPOWERED_CARD, CNIE_ERR_UNRESPONSIVE },
	{ SCARD_W_UNSUPPORTED_CARD, CNIE_ERR_COMM },
	{ SCARD_E_CARD_UNSUPPORTED, CNIE_ERR_COMM },
	{ SCARD_E_PROTO_MISMATCH, CNIE_ERR_COMM },
	{ SCARD_F_COMM_ERROR, CNIE_ERR_COMM },
	{ SCARD_E_COMM_DATA_LOST, CNIE_ERR_COMM },
	{ SCARD_E_NOT_TRANSACTED, CNIE_ERR_COMM },
	{ SCARD_E_NO_ACCESS, CNIE_ERR_PERMISSION },
	{ SCARD_W_SECURITY_VIOLATION, CNIE_ERR_PERMISSION },
	{ SCARD_E_SERVER_TOO_BUSY, CNIE_ERR_BUSY },
	{ SCARD_E_NO_MEMORY, CNIE_ERR_NOMEM },
	{ SCARD_E_INSUFFICIENT_BUFFER, CNIE_ERR_BUFFER_TOO_SMALL },
	{ SCARD_E_PCI_TOO_SMALL, CNIE_ERR_BUFFER_TOO_SMALL },
	{ SCARD_E_INVALID_PARAMETER, CNIE_ERR_INVALID_ARG },
	{ SCARD_E_INVALID_VALUE, CNIE_ERR_INVALID_ARG },
	{ SCARD_E_INVALID_HANDLE, CNIE_ERR_STATE },
	/* Also SCARD_E_UNEXPECTED (same value in pcsc-lite). */
	{ SCARD_E_UNSUPPORTED_FEATURE, CNIE_ERR_UNSUPPORTED },
	{ SCARD_E_NOT_READY, CNIE_ERR_TRANSPORT },
	{ SCARD_E_READER_UNSUPPORTED, CNIE_ERR_TRANSPORT },
	{ SCARD_E_DUPLICATE_READER, CNIE_ERR_TRANSPORT },
	{ SCARD_F_INTERNAL_ERROR, CNIE_ERR_TRANSPORT },
	{ SCARD_F_UNKNOWN_ERROR, CNIE_ERR_TRANSPORT },
	{ SCARD_F_WAITED_TOO_LONG, CNIE_ERR_TRANSPORT },
};

int
cnie_pcsc_error(long rv)
{
	size_t i;

	for (i = 0; i < sizeof(pcsc_errors) / sizeof(pcsc_errors[0]); i++)
		if (pcsc_errors[i].rv == (LONG)rv)
			return pcsc_errors[i].err;
	return CNIE_ERR_TRANSPORT;
}

static int
pcsc_fail(const char *what, LONG rv)
{
	int r = cnie_pcsc_error(rv);

	cnie_log_debug("%s: 0x%08lX %s", what, (unsigned long)rv, pcsc_stringify_error(rv));
	return r;
}

/* ---- context -------------------------------------------------------- */

static void
snap_clear(cnie_pcsc *ctx)
{
	size_t i;

	for (i = 0; i < ctx->snap_n; i++) {
		free(ctx->snap_names[i]);
		ctx->snap_names[i] = NULL;
	}
	ctx->snap_n = 0;
	ctx->snap_total = 0;
	ctx->snap_valid = false;
	ctx->snap_truncated = false;
}

static void
pcsc_unref(cnie_pcsc *ctx)
{
	if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	SCardReleaseContext(ctx->h);
	snap_clear(ctx);
	pthread_mutex_destroy(&ctx->mu);
	free(ctx);
}

int
cnie_pcsc_new(cnie_pcsc **out)
{
	cnie_pcsc *ctx = NULL;
	LONG rv;

	if (out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return CNIE_ERR_NOMEM;
	if (pthread_mutex_init(&ctx->mu, NULL) != 0) {
		free(ctx);
		return CNIE_ERR_NOMEM;
	}
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx->h)) !=
	    SCARD_S_SUCCESS) {
		pthread_mutex_destroy(&ctx->mu);
		free(ctx);
		return pcsc_fail("SCardEstablishContext", rv);
	}
	atomic_init(&ctx->refs, 1);
	atomic_init(&ctx->cancel, false);
	*out = ctx;
	return 0;
}

/* Open transports keep the PC/SC context alive until they are freed. */
void
cnie_pcsc_free(cnie_pcsc **p)
{
	if (p == NULL || *p == NULL)
		return;
	pcsc_unref(*p);
	*p = NULL;
}

/* ---- reader list ---------------------------------------------------- */

void
cnie_pcsc_free_names(char ***names)
{
	size_t i;

	if (names == NULL || *names == NULL)
		return;
	for (i = 0; (*names)[i] != NULL; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
}

/*
 * Splits pcscd's multi-string ("a\0b\0\0") into a NULL-terminated array.
 * Bounded by n: a list missing its terminator is rejected.
 */
static int
split_multistring(const char *ms, size_t n, char ***out, size_t *count)
{
	char **names = NULL;
	size_t k = 0, pos = 0, len;
	const char *nul;
	int r = CNIE_ERR_NOMEM;

	if ((names = calloc(READERS_MAX + 1, sizeof(*names))) == NULL)
		goto out;
	while (pos < n && ms[pos] != '\0') {
		if ((nul = memchr(ms + pos, '\0', n - pos)) == NULL) {
			r = CNIE_ERR_BAD_RESPONSE;
			goto out;
		}
		len = (size_t)(nul - (ms + pos));
		if (k == READERS_MAX) {
			r = CNIE_ERR_TOO_LONG;
			goto out;
		}
		if ((names[k] = strndup(ms + pos, len)) == NULL)
			goto out;
		k++;
		pos += len + 1;
	}
	*out = names;
	*count = k;
	names = NULL;
	r = 0;
out:
	cnie_pcsc_free_names(&names);
	return r;
}

/* Lists readers; an empty list is 0 with count 0 (the caller decides). */
static int
list_readers(cnie_pcsc *ctx, char ***out, size_t *count)
{
	char *ms = NULL;
	DWORD len = 0;
	LONG rv;
	int r, tries;

	*out = NULL;
	*count = 0;
	/* A reader may appear between the two calls: retry a few times. */
	for (tries = 0; tries < 3; tries++) {
		free(ms);
		ms = NULL;
		rv = SCardListReaders(ctx->h, NULL, NULL, &len);
		if (rv == SCARD_E_NO_READERS_AVAILABLE) {
			r = split_multistring("", 1, out, count);
			goto out;
		}
		if (rv != SCARD_S_SUCCESS) {
			r = pcsc_fail("SCardListReaders", rv);
			goto out;
		}
		if (len == 0 || len > READERS_BUF_MAX) {
			r = CNIE_ERR_BAD_RESPONSE;
			goto out;
		}
		if ((ms = malloc(len)) == NULL) {
			r = CNIE_ERR_NOMEM;
			goto out;
		}
		rv = SCardListReaders(ctx->h, NULL, ms, &len);
		if (rv == SCARD_E_INSUFFICIENT_BUFFER)
			continue;
		if (rv == SCARD_E_NO_READERS_AVAILABLE) {
			r = split_multistring("", 1, out, count);
			goto out;
		}
		if (rv != SCARD_S_SUCCESS) {
			r = pcsc_fail("SCardListReaders", rv);
			goto out;
		}
		r = split_multistring(ms, len, out, count);
		goto out;
	}
	r = CNIE_ERR_BUSY;
out:
	free(ms);
	return r;
}

/*
 * Records the reader set and the current state of each reader as the
 * baseline for the next wait.  Called with ctx->mu held.
 */
static int
snap_take(cnie_pcsc *ctx, char **names, size_t n)
{
	SCARD_READERSTATE rs[WATCH_MAX];
	size_t i, w = n < WATCH_MAX ? n : WATCH_MAX;
	LONG rv;

	snap_clear(ctx);
	if (w > 0) {
		memset(rs, 0, sizeof(rs));
		for (i = 0; i < w; i++) {
			rs[i].szReader = names[i];
			rs[i].dwCurrentState = SCARD_STATE_UNAWARE;
		}
		/* UNAWARE makes pcsc-lite answer at once with the state. */
		rv = SCardGetStatusChange(ctx->h, 0, rs, (DWORD)w);
		if (rv != SCARD_S_SUCCESS)
			return pcsc_fail("SCardGetStatusChange", rv);
	}
	for (i = 0; i < w; i++) {
		if ((ctx->snap_names[i] = strdup(names[i])) == NULL) {
			snap_clear(ctx);
			return CNIE_ERR_NOMEM;
		}
		ctx->snap_state[i] = rs[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		ctx->snap_n = i + 1;
	}
	ctx->snap_truncated = n > WATCH_MAX;
	ctx->snap_total = n;
	ctx->snap_valid = true;
	return 0;
}

/* True when names[0..n) is the reader set of the snapshot. */
static bool
snap_same_set(const cnie_pcsc *ctx, char **names, size_t n)
{
	size_t i;

	if (ctx->snap_truncated != (n > WATCH_MAX))
		return false;
	if ((n < WATCH_MAX ? n : WATCH_MAX) != ctx->snap_n)
		return false;
	for (i = 0; i < ctx->snap_n; i++)
		if (strcmp(names[i], ctx->snap_names[i]) != 0)
			return false;
	return true;
}

int
cnie_pcsc_list_readers(cnie_pcsc *ctx, char ***names, size_t *count)
{
	char **list = NULL;
	size_t n = 0;
	int r;

	if (ctx == NULL || names == NULL || count == NULL)
		return CNIE_ERR_INVALID_ARG;
	*names = NULL;
	*count = 0;
	if ((r = list_readers(ctx, &list, &n)) != 0)
		goto out;
	if (n == 0) {
		r = CNIE_ERR_NO_READER;
		goto out;
	}
	/*
	 * What the caller has seen becomes the baseline of wait_change.  A
	 * failure here only loses that baseline (the next wait takes one).
	 */
	pthread_mutex_lock(&ctx->mu);
	if (snap_take(ctx, list, n) != 0)
		snap_clear(ctx);
	pthread_mutex_unlock(&ctx->mu);
	*names = list;
	*count = n;
	list = NULL;
out:
	cnie_pcsc_free_names(&list);
	return r;
}

/* ---- reader state and events ---------------------------------------- */

int
cnie_pcsc_reader_state(cnie_pcsc *ctx, const char *reader, cnie_reader_state *st)
{
	SCARD_READERSTATE rs;
	DWORD ev;
	LONG rv;

	if (ctx == NULL || reader == NULL || st == NULL)
		return CNIE_ERR_INVALID_ARG;
	memset(st, 0, sizeof(*st));
	memset(&rs, 0, sizeof(rs));
	rs.szReader = reader;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	if ((rv = SCardGetStatusChange(ctx->h, 0, &rs, 1)) != SCARD_S_SUCCESS)
		return pcsc_fail("SCardGetStatusChange", rv);
	ev = rs.dwEventState;
	if (ev & SCARD_STATE_UNKNOWN)
		return CNIE_ERR_READER_NOT_FOUND;
	if (ev & SCARD_STATE_UNAVAILABLE)
		return CNIE_ERR_TRANSPORT;
	st->card_present = (ev & SCARD_STATE_PRESENT) != 0;
	st->card_in_use = (ev & SCARD_STATE_INUSE) != 0;
	st->card_exclusive = (ev & SCARD_STATE_EXCLUSIVE) != 0;
	st->card_mute = (ev & SCARD_STATE_MUTE) != 0;
	/* pcsc-lite keeps an insert/remove counter in the upper word. */
	st->event_count = (uint32_t)((ev >> 16) & 0xFFFF);
	if (st->card_present && rs.cbAtr > 0) {
		if (rs.cbAtr > sizeof(st->atr) || rs.cbAtr > sizeof(rs.rgbAtr))
			return CNIE_ERR_BAD_RESPONSE;
		memcpy(st->atr, rs.rgbAtr, rs.cbAtr);
		st->atr_len = rs.cbAtr;
	}
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool
take_cancel(cnie_pcsc *ctx)
{
	return atomic_exchange(&ctx->cancel, false);
}

/* Re-reads the reader set and states into the snapshot (mu not held). */
static int
snap_refresh(cnie_pcsc *ctx)
{
	char **list = NULL;
	size_t n = 0;
	int r;

	if ((r = list_readers(ctx, &list, &n)) != 0)
		return r;
	pthread_mutex_lock(&ctx->mu);
	r = snap_take(ctx, list, n);
	pthread_mutex_unlock(&ctx->mu);
	cnie_pcsc_free_names(&list);
	return r;
}

int
cnie_pcsc_wait_change(cnie_pcsc *ctx, int timeout_ms)
{
	SCARD_READERSTATE rs[WATCH_MAX + 1];
	char *names[WATCH_MAX];
	char **list = NULL;
	size_t n = 0, w = 0, i;
	uint64_t deadline = 0, now;
	DWORD slice;
	LONG rv;
	bool changed = false;
	int r;

	if (ctx == NULL)
		return CNIE_ERR_INVALID_ARG;
	memset(names, 0, sizeof(names));
	if (take_cancel(ctx))
		return CNIE_ERR_CANCELLED;
	if (timeout_ms >= 0)
		deadline = now_ms() + (uint64_t)timeout_ms;

	/* Compare the reader set with what the caller saw last. */
	if ((r = list_readers(ctx, &list, &n)) != 0)
		goto out;
	pthread_mutex_lock(&ctx->mu);
	if (!ctx->snap_valid) {
		r = snap_take(ctx, list, n);
	} else if (!snap_same_set(ctx, list, n)) {
		/* A reader came or went since the last list or wait. */
		r = snap_take(ctx, list, n);
		changed = r == 0;
	}
	if (r == CNIE_ERR_READER_NOT_FOUND) {
		/* A listed reader vanished before its state was read. */
		snap_clear(ctx);
		changed = true;
		r = 0;
	}
	if (r == 0 && !changed) {
		w = ctx->snap_n;
		memset(rs, 0, sizeof(rs));
		for (i = 0; i < w; i++) {
			if ((names[i] = strdup(ctx->snap_names[i])) == NULL) {
				r = CNIE_ERR_NOMEM;
				break;
			}
			rs[i].szReader = names[i];
			rs[i].dwCurrentState = ctx->snap_state[i];
		}
		/*
		 * The reader count in the upper word is the Windows convention;
		 * pcsc-lite 1.9.9 ignores it and reports changes made during
		 * the wait only, which the reader-set comparison above covers.
		 */
		rs[w].szReader = PNP_READER;
		rs[w].dwCurrentState = (DWORD)((ctx->snap_total & 0xFFFF) << 16);
	}
	pthread_mutex_unlock(&ctx->mu);
	if (r != 0 || changed)
		goto out;

	for (;;) {
		if (timeout_ms < 0) {
			slice = WAIT_SLICE_MS;
		} else {
			now = now_ms();
			slice = (DWORD)(deadline > now ? deadline - now : 0);
			if (slice > WAIT_SLICE_MS)
				slice = WAIT_SLICE_MS;
		}
		rv = SCardGetStatusChange(ctx->h, slice, rs, (DWORD)(w + 1));
		/* A cancel that raced ahead of the wait is seen here. */
		if (take_cancel(ctx) || rv == SCARD_E_CANCELLED) {
			r = CNIE_ERR_CANCELLED;
			goto out;
		}
		if (rv == SCARD_E_TIMEOUT) {
			if (timeout_ms >= 0 && now_ms() >= deadline) {
				r = CNIE_ERR_TIMEOUT;
				goto out;
			}
			continue;
		}
		if (rv == SCARD_E_UNKNOWN_READER || rv == SCARD_E_READER_UNAVAILABLE) {
			/* pcsc-lite 1.9.9: a watched reader was removed. */
			changed = true;
			break;
		}
		if (rv != SCARD_S_SUCCESS) {
			r = pcsc_fail("SCardGetStatusChange", rv);
			goto out;
		}
		for (i = 0; i <= w; i++) {
			if (rs[i].dwEventState & SCARD_STATE_CHANGED)
				changed = true;
			rs[i].dwCurrentState = rs[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		}
		if (changed)
			break;
	}
	/* The caller rescans now: the states it will see are the baseline. */
	if ((r = snap_refresh(ctx)) != 0) {
		pthread_mutex_lock(&ctx->mu);
		snap_clear(ctx);
		pthread_mutex_unlock(&ctx->mu);
		/* The change itself was observed. */
		r = 0;
	}
out:
	for (i = 0; i < WATCH_MAX; i++)
		free(names[i]);
	cnie_pcsc_free_names(&list);
	return r;
}

/*
 * pcsc-lite allows SCardCancel from any thread.  The flag covers a cancel
 * that arrives before the wait has started inside pcsc-lite (SCardCancel
 * then has nothing to wake): the wait sees it within WAIT_SLICE_MS.  A
 * cancel with no wait in progress cancels the next wait.
 */
int
cnie_pcsc_cancel(cnie_pcsc *ctx)
{
	LONG rv;

	if (ctx == NULL)
		return CNIE_ERR_INVALID_ARG;
	atomic_store(&ctx->cancel, true);
	if ((rv = SCardCancel(ctx->h)) != SCARD_S_SUCCESS)
		return pcsc_fail("SCardCancel", rv);
	return 0;
}

/* ---- capabilities --------------------------------------------------- */

/*
 * PC/SC part 10 v2.02.09 section 2.2: CM_IOCTL_GET_FEATURE_REQUEST returns
 * a list of TLV: tag (1 byte, the feature), length (1 byte, always 4),
 * value (the control code, big-endian).
 */
static int
parse_features(const uint8_t *p, size_t n, cnie_transport_caps *caps)
{
	cnie_cur c, v;
	uint8_t tag, len;
	uint32_t code;
	int r;

	cnie_cur_init(&c, p, n);
	while (cnie_cur_left(&c) > 0) {
		if ((r = cnie_cur_u8(&c, &tag)) != 0 || (r = cnie_cur_u8(&c, &len)) != 0 ||
		    (r = cnie_cur_sub(&c, len, &v)) != 0)
			return r;
		if (len != 4)
			return CNIE_ERR_ENCODING;
		if ((r = cnie_cur_u32be(&v, &code)) != 0)
			return r;
		if (tag == FEATURE_VERIFY_PIN_DIRECT) {
			caps->pinpad_verify = true;
			caps->ioctl_verify = code;
		} else if (tag == FEATURE_MODIFY_PIN_DIRECT) {
			caps->pinpad_modify = true;
			caps->ioctl_modify = code;
		} else if (tag == FEATURE_EXECUTE_PACE) {
			/* Used only once GetReaderPACECapabilities says so (probe_reader). */
			caps->ioctl_pace = code;
		}
	}
	return cnie_cur_end(&c);
}

/*
 * ISO 7816-3 8.2: TS T0 {TAi TBi TCi TDi} historical bytes [TCK].  Returns
 * a sub-cursor over the historical bytes.
 */
static int
atr_historical(const uint8_t *atr, size_t n, cnie_cur *hist)
{
	cnie_cur c;
	uint8_t ts, t0, y, td, k;
	int r, i;

	cnie_cur_init(&c, atr, n);
	if ((r = cnie_cur_u8(&c, &ts)) != 0 || (r = cnie_cur_u8(&c, &t0)) != 0)
		return r;
	if (ts != 0x3B && ts != 0x3F)
		return CNIE_ERR_ENCODING;
	k = t0 & 0x0F;
	y = t0 & 0xF0;
	/* At most one set of interface bytes per TDi: the ATR is 33 bytes. */
	for (i = 0; y != 0 && i < 16; i++) {
		if ((y & 0x10) && (r = cnie_cur_skip(&c, 1)) != 0)
			return r;
		if ((y & 0x20) && (r = cnie_cur_skip(&c, 1)) != 0)
			return r;
		if ((y & 0x40) && (r = cnie_cur_skip(&c, 1)) != 0)
			return r;
		if (!(y & 0x80))
			break;
		if ((r = cnie_cur_u8(&c, &td)) != 0)
			return r;
		y = td & 0xF0;
	}
	if (y & 0x80)
		return CNIE_ERR_NESTING;
	return cnie_cur_sub(&c, k, hist);
}

/*
 * ISO 7816-4 8.1.1: category indicator 0x00 (compact-TLV, then a 3-byte
 * status indicator) or 0x80 (compact-TLV only).  Tag 7 is the card
 * capabilities (8.1.1.2.7); its third byte, the third software function
 * table, has b7 (0x40) set when extended Lc and Le fields are supported.
 */
static bool
atr_extended_length(const uint8_t *atr, size_t n)
{
	cnie_cur hist, tlv, obj;
	uint8_t cat, tl, caps3;
	size_t left;

	if (atr_historical(atr, n, &hist) != 0 || cnie_cur_u8(&hist, &cat) != 0)
		return false;
	left = cnie_cur_left(&hist);
	if (cat == 0x00) {
		if (left < 3)
			return false;
		left -= 3;
	} else if (cat != 0x80) {
		return false;
	}
	if (cnie_cur_sub(&hist, left, &tlv) != 0)
		return false;
	while (cnie_cur_left(&tlv) > 0) {
		if (cnie_cur_u8(&tlv, &tl) != 0 || cnie_cur_sub(&tlv, tl & 0x0F, &obj) != 0)
			return false;
		if ((tl >> 4) == 0x7 && (tl & 0x0F) >= 3) {
			if (cnie_cur_skip(&obj, 2) != 0 || cnie_cur_u8(&obj, &caps3) != 0)
				return false;
			return (caps3 & 0x40) != 0;
		}
	}
	return false;
}

/*
 * PC/SC part 3 v2.01.09 3.1.3.2.3: a contactless card behind a PC/SC
 * reader gets the ATR 3B 8n 80 01 (historical bytes) TCK.
 */
static bool
atr_contactless(const uint8_t *atr, size_t n)
{
	return n >= 5 && atr[0] == 0x3B && (atr[1] & 0xF0) == 0x80 && atr[2] == 0x80 &&
	    atr[3] == 0x01;
}

/*
 * Fills caps from what the reader and the card announce.  reader_max is
 * SCARD_ATTR_MAXINPUT (0 when the driver does not report it: pcsc-lite
 * itself carries extended APDUs, so the card decides).
 */
static void
caps_from(const uint8_t *atr, size_t atr_len, DWORD proto, size_t reader_max,
    cnie_transport_caps *caps)
{
	bool ext;

	caps->contactless = atr_contactless(atr, atr_len);
	/* T=0 has no extended length (ISO 7816-3 12.1: only through ENVELOPE). */
	ext = proto == SCARD_PROTOCOL_T1 && atr_extended_length(atr, atr_len);
	if (ext && reader_max != 0 && reader_max <= SHORT_CMD_MAX)
		ext = false;
	caps->extended = ext;
	if (ext) {
		caps->max_cmd = reader_max != 0 && reader_max < CNIE_MAX_COMMAND ? reader_max :
		    CNIE_MAX_COMMAND;
		caps->max_resp = CNIE_MAX_RESPONSE;
	} else {
		caps->max_cmd = reader_max != 0 && reader_max < SHORT_CMD_MAX ? reader_max :
		    SHORT_CMD_MAX;
		caps->max_resp = SHORT_RESP_MAX;
	}
}

/* ---- connection (the transport implementation) ---------------------- */

struct pcsc_card {
	cnie_pcsc *ctx; /* holds a reference */
	SCARDHANDLE h;
	DWORD proto;
};

/*
 * A card pulled or reset in the middle of an exchange reaches us, depending
 * on the reader driver, as a communication error, a timeout or an
 * unresponsive card rather than SCARD_W_REMOVED_CARD.  SCardStatus on the
 * handle tells what happened (pcsc-lite keeps the removal and reset
 * events per handle), so that the user sees "card removed" or "card
 * reset", not "communication error".  pcscd learns of a removal by
 * polling the reader (every 400 ms in pcsc-lite 1.9), so a card still
 * shown present is asked about again for up to CARD_FAIL_SETTLE_MS.  A
 * pcscd shutting down answers a call on a handle it has already dropped
 * with SCARD_W_SECURITY_VIOLATION ("access denied"; seen on
 * SCardBeginTransaction in tests/integration/desktop_mix.py chaos): asked
 * the same way, it is the service going away, not a permission refused.
 * pcsc-lite answers SCardTransmit with SCARD_E_PROTO_MISMATCH once the
 * card it was connected to has gone (a removal or a reset: the reader's
 * protocol is undefined until the next card is powered), before the handle
 * shows the removal: asked the same way too.
 * Other failures are kept as they are.
 */
#define CARD_FAIL_SETTLE_MS 800
#define CARD_FAIL_STEP_MS 50

static int
card_fail(struct pcsc_card *card, const char *what, LONG rv)
{
	DWORD state = 0, proto = 0, alen, rlen;
	uint8_t atr[MAX_ATR_SIZE];
	struct timespec step = { 0, CARD_FAIL_STEP_MS * 1000000L };
	unsigned waited = 0;
	LONG st;

	if (rv != SCARD_F_COMM_ERROR && rv != SCARD_E_COMM_DATA_LOST &&
	    rv != SCARD_E_NOT_TRANSACTED && rv != SCARD_W_UNRESPONSIVE_CARD &&
	    rv != SCARD_W_UNPOWERED_CARD && rv != SCARD_E_TIMEOUT && rv != SCARD_F_UNKNOWN_ERROR &&
	    rv != SCARD_F_INTERNAL_ERROR && rv != SCARD_E_NOT_READY &&
	    rv != SCARD_W_SECURITY_VIOLATION && rv != SCARD_E_PROTO_MISMATCH)
		return pcsc_fail(what, rv);
	for (;;) {
		alen = sizeof(atr);
		rlen = 0;
		st = SCardStatus(card->h, NULL, &rlen, &state, &proto, atr, &alen);
		if (st != SCARD_S_SUCCESS || (state & SCARD_ABSENT) != 0 ||
		    waited >= CARD_FAIL_SETTLE_MS)
			break;
		nanosleep(&step, NULL);
		waited += CARD_FAIL_STEP_MS;
	}
	cnie_log_debug("%s: 0x%08lX %s; SCardStatus: 0x%08lX, state 0x%lX", what,
	    (unsigned long)rv, pcsc_stringify_error(rv), (unsigned long)st, (unsigned long)state);
	if (st == SCARD_W_REMOVED_CARD || st == SCARD_W_RESET_CARD || st == SCARD_E_NO_SMARTCARD ||
	    st == SCARD_E_NO_SERVICE || st == SCARD_E_SERVICE_STOPPED ||
	    st == SCARD_E_READER_UNAVAILABLE || st == SCARD_E_UNKNOWN_READER)
		return cnie_pcsc_error(st);
	if (st == SCARD_S_SUCCESS && (state & SCARD_ABSENT) != 0)
		return CNIE_ERR_CARD_REMOVED;
	return cnie_pcsc_error(rv);
}

static int
card_transmit(void *arg, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	struct pcsc_card *card = arg;
	const SCARD_IO_REQUEST *pci;
	DWORD rlen;
	LONG rv;

	if (card == NULL || cmd == NULL || resp == NULL || resp_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	if (cmd_len == 0 || cmd_len > CNIE_MAX_COMMAND || *resp_len < 2)
		return CNIE_ERR_INVALID_ARG;
	switch (card->proto) {
	case SCARD_PROTOCOL_T0:
		pci = SCARD_PCI_T0;
		break;
	case SCARD_PROTOCOL_T1:
		pci = SCARD_PCI_T1;
		break;
	default:
		return CNIE_ERR_STATE;
	}
	rlen = (DWORD)(*resp_len < MAX_BUFFER_SIZE_EXTENDED ? *resp_len :
	    MAX_BUFFER_SIZE_EXTENDED);
	rv = SCardTransmit(card->h, pci, cmd, (DWORD)cmd_len, NULL, resp, &rlen);
	if (rv != SCARD_S_SUCCESS)
		return card_fail(card, "SCardTransmit", rv);
	if (rlen > *resp_len)
		return CNIE_ERR_INTERNAL;
	*resp_len = rlen;
	return 0;
}

static int
card_begin(void *arg)
{
	struct pcsc_card *card = arg;
	LONG rv;

	if ((rv = SCardBeginTransaction(card->h)) != SCARD_S_SUCCESS)
		return card_fail(card, "SCardBeginTransaction", rv);
	return 0;
}

static int
card_end(void *arg)
{
	struct pcsc_card *card = arg;
	LONG rv;

	if ((rv = SCardEndTransaction(card->h, SCARD_LEAVE_CARD)) != SCARD_S_SUCCESS)
		return pcsc_fail("SCardEndTransaction", rv);
	return 0;
}

static int
card_reconnect_with(struct pcsc_card *card, DWORD init)
{
	DWORD proto = 0;
	LONG rv;

	rv = SCardReconnect(card->h, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    init, &proto);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardReconnect", rv);
	card->proto = proto;
	return 0;
}

static int
card_reset(void *arg, bool unpower)
{
	return card_reconnect_with(arg, unpower ? SCARD_UNPOWER_CARD : SCARD_RESET_CARD);
}

static int
card_reconnect(void *arg)
{
	return card_reconnect_with(arg, SCARD_LEAVE_CARD);
}

static int
card_control(void *arg, uint32_t code, const uint8_t *in, size_t in_len, uint8_t *out,
    size_t *out_len)
{
	struct pcsc_card *card = arg;
	DWORD got = 0, cap;
	LONG rv;

	if (card == NULL || out_len == NULL || (in == NULL && in_len != 0) ||
	    (out == NULL && *out_len != 0))
		return CNIE_ERR_INVALID_ARG;
	if (in_len > MAX_BUFFER_SIZE_EXTENDED)
		return CNIE_ERR_TOO_LONG;
	cap = (DWORD)(*out_len < MAX_BUFFER_SIZE_EXTENDED ? *out_len : MAX_BUFFER_SIZE_EXTENDED);
	rv = SCardControl(card->h, code, in, (DWORD)in_len, out, cap, &got);
	if (rv != SCARD_S_SUCCESS)
		return card_fail(card, "SCardControl", rv);
	if (got > *out_len)
		return CNIE_ERR_INTERNAL;
	*out_len = got;
	return 0;
}

static int
card_atr(void *arg, uint8_t *atr, size_t *n)
{
	struct pcsc_card *card = arg;
	uint8_t buf[MAX_ATR_SIZE];
	DWORD state = 0, proto = 0, alen = sizeof(buf), rlen = 0;
	LONG rv;

	if (card == NULL || atr == NULL || n == NULL)
		return CNIE_ERR_INVALID_ARG;
	rv = SCardStatus(card->h, NULL, &rlen, &state, &proto, buf, &alen);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardStatus", rv);
	if (alen > sizeof(buf))
		return CNIE_ERR_BAD_RESPONSE;
	if (alen > *n)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	memcpy(atr, buf, alen);
	*n = alen;
	return 0;
}

static void
card_free(void *arg)
{
	struct pcsc_card *card = arg;

	if (card == NULL)
		return;
	if (card->h != 0)
		SCardDisconnect(card->h, SCARD_LEAVE_CARD);
	pcsc_unref(card->ctx);
	free(card);
}

static const cnie_transport_ops pcsc_ops = {
	.transmit = card_transmit,
	.begin = card_begin,
	.end = card_end,
	.reset = card_reset,
	.reconnect = card_reconnect,
	.control = card_control,
	.atr = card_atr,
	.free = card_free,
};

/*
 * A reader offering FEATURE_EXECUTE_PACE (PC/SC part 10 amendment 1):
 * GetReaderPACECapabilities must answer dwResult 0 with the generic PACE
 * bit, else the feature is not used (an eID-only reader runs PACE only
 * with Terminal Authentication, which this card has no use for).
 */
static void
probe_pace(struct pcsc_card *card, cnie_transport_caps *caps)
{
	uint8_t in[3], out[16], bits = 0;
	const uint8_t *data;
	size_t data_len;
	uint32_t result;
	DWORD len = 0;
	LONG rv;

	cnie_rpace_simple_input(CNIE_RPACE_GET_CAPABILITIES, in);
	rv = SCardControl(card->h, caps->ioctl_pace, in, sizeof(in), out, sizeof(out), &len);
	if (rv == SCARD_S_SUCCESS && len <= sizeof(out) &&
	    cnie_rpace_split(out, len, &result, &data, &data_len) == 0 &&
	    result == CNIE_RPACE_OK && cnie_rpace_parse_caps(data, data_len, &bits) == 0 &&
	    (bits & CNIE_RPACE_CAP_GENERIC) != 0) {
		caps->reader_pace = true;
		return;
	}
	if (rv != SCARD_S_SUCCESS)
		cnie_log_debug("reader offers EXECUTE_PACE, GetReaderPACECapabilities failed "
		    "(0x%08lX)", (unsigned long)rv);
	else
		cnie_log_debug("reader offers EXECUTE_PACE without generic PACE (capabilities %02X)",
		    bits);
	caps->ioctl_pace = 0;
}

/* Reads what the reader offers; a reader that offers nothing is fine. */
static void
probe_reader(struct pcsc_card *card, cnie_transport_caps *caps, size_t *reader_max)
{
	uint8_t buf[FEATURES_BUF_MAX];
	DWORD len = 0;
	uint32_t v;
	cnie_cur c;
	LONG rv;

	*reader_max = 0;
	rv = SCardControl(card->h, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, sizeof(buf), &len);
	if (rv == SCARD_S_SUCCESS && len <= sizeof(buf)) {
		if (parse_features(buf, len, caps) != 0) {
			/* A malformed list is ignored as a whole: no half-trusted codes. */
			cnie_log_warn("reader returned a malformed PC/SC part 10 feature list");
			caps->pinpad_verify = caps->pinpad_modify = false;
			caps->ioctl_verify = caps->ioctl_modify = caps->ioctl_pace = 0;
		}
	}
	if (caps->ioctl_pace != 0)
		probe_pace(card, caps);
	len = sizeof(buf);
	rv = SCardGetAttrib(card->h, SCARD_ATTR_MAXINPUT, buf, &len);
	/* The CCID driver returns a host-order uint32 (ccid ifdhandler.c). */
	if (rv == SCARD_S_SUCCESS && len == sizeof(v)) {
		cnie_cur_init(&c, buf, len);
		if (cnie_cur_copy(&c, &v, sizeof(v)) == 0)
			*reader_max = v;
	}
}

int
cnie_pcsc_connect(cnie_pcsc *ctx, const char *reader, cnie_transport **out)
{
	struct pcsc_card *card = NULL;
	cnie_transport_caps caps;
	uint8_t atr[MAX_ATR_SIZE];
	size_t atr_len = sizeof(atr), reader_max = 0;
	LONG rv;
	int r;

	if (ctx == NULL || reader == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	if ((card = calloc(1, sizeof(*card))) == NULL)
		return CNIE_ERR_NOMEM;
	atomic_fetch_add(&ctx->refs, 1);
	card->ctx = ctx;
	/*
	 * A card being inserted or reset is powered by pcscd's reader thread;
	 * a connect in between gets SCARD_E_PROTO_MISMATCH (no protocol yet,
	 * though T=0 and T=1 are both offered).  Asked again until the card is
	 * ready or gone (NO_SMARTCARD), for CARD_FAIL_SETTLE_MS at most.
	 */
	for (unsigned waited = 0;; waited += CARD_FAIL_STEP_MS) {
		struct timespec step = { 0, CARD_FAIL_STEP_MS * 1000000L };

		rv = SCardConnect(ctx->h, reader, SCARD_SHARE_SHARED,
		    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card->h, &card->proto);
		if (rv != SCARD_E_PROTO_MISMATCH || waited >= CARD_FAIL_SETTLE_MS)
			break;
		nanosleep(&step, NULL);
	}
	if (rv != SCARD_S_SUCCESS) {
		card->h = 0;
		r = pcsc_fail("SCardConnect", rv);
		goto out;
	}
	memset(&caps, 0, sizeof(caps));
	if ((r = card_atr(card, atr, &atr_len)) != 0)
		goto out;
	probe_reader(card, &caps, &reader_max);
	caps_from(atr, atr_len, card->proto, reader_max, &caps);
	cnie_log_debug("connected: T=%d, max_cmd %zu, extended %d, contactless %d, pinpad %d/%d, "
	    "reader PACE %d", card->proto == SCARD_PROTOCOL_T1 ? 1 : 0, caps.max_cmd,
	    caps.extended, caps.contactless, caps.pinpad_verify, caps.pinpad_modify,
	    caps.reader_pace);
	/* cnie_transport_new owns card from here, on failure too. */
	r = cnie_transport_new(&pcsc_ops, card, &caps, reader, out);
	card = NULL;
out:
	card_free(card);
	return r;
}

int
cnie_pcsc_reader_caps(cnie_pcsc *ctx, const char *reader, cnie_transport_caps *caps)
{
	struct pcsc_card card;
	size_t reader_max = 0;
	LONG rv;

	if (ctx == NULL || reader == NULL || caps == NULL)
		return CNIE_ERR_INVALID_ARG;
	memset(caps, 0, sizeof(*caps));
	memset(&card, 0, sizeof(card));
	card.ctx = ctx;
	/*
	 * A direct connection (PC/SC part 5 SCardConnect, SCARD_SHARE_DIRECT,
	 * no protocol) talks to the reader only: no card power-up, no APDU,
	 * no effect on another client's session with the card.
	 */
	rv = SCardConnect(ctx->h, reader, SCARD_SHARE_DIRECT, 0, &card.h, &card.proto);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail("SCardConnect (direct)", rv);
	probe_reader(&card, caps, &reader_max);
	(void)SCardDisconnect(card.h, SCARD_LEAVE_CARD);
	return 0;
}

/* ---- choosing a reader ---------------------------------------------- */

static bool
is_hex2(const char *s)
{
	return ((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'A' && s[0] <= 'F') ||
	    (s[0] >= 'a' && s[0] <= 'f')) &&
	    ((s[1] >= '0' && s[1] <= '9') || (s[1] >= 'A' && s[1] <= 'F') ||
	    (s[1] >= 'a' && s[1] <= 'f'));
}

size_t
cnie_pcsc_reader_base(const char *reader, char *out, size_t out_len)
{
	size_t len, keep;

	if (out == NULL || out_len == 0)
		return 0;
	out[0] = '\0';
	if (reader == NULL)
		return 0;
	len = strlen(reader);
	keep = len;
	/* pcsc-lite names a reader "NAME XX YY" (reader and slot numbers, hex). */
	if (len >= 6 && reader[len - 6] == ' ' && is_hex2(reader + len - 5) &&
	    reader[len - 3] == ' ' && is_hex2(reader + len - 2))
		keep = len - 6;
	while (keep > 0 && reader[keep - 1] == ' ')
		keep--;
	if (keep >= out_len)
		keep = out_len - 1;
	memcpy(out, reader, keep);
	out[keep] = '\0';
	return keep;
}

/* How a reader name fits what the caller asked for, best first. */
enum fit { FIT_NONE, FIT_SUBSTRING, FIT_BASE, FIT_EXACT };

static enum fit
name_fit(const char *name, const char *wanted, unsigned flags)
{
	char base[256];

	if (strcmp(name, wanted) == 0)
		return FIT_EXACT;
	if ((flags & CNIE_PCSC_SELECT_EXACT) != 0)
		return FIT_NONE;
	cnie_pcsc_reader_base(name, base, sizeof(base));
	if (strcmp(base, wanted) == 0)
		return FIT_BASE;
	return strstr(name, wanted) != NULL ? FIT_SUBSTRING : FIT_NONE;
}

static bool
has_card(cnie_pcsc *ctx, const char *name)
{
	cnie_reader_state st;

	return cnie_pcsc_reader_state(ctx, name, &st) == 0 && st.card_present;
}

/* Moves the names marked in keep[] into a NULL-terminated list *out. */
static int
take_names(char **names, size_t n, const bool *keep, char ***out)
{
	char **l;
	size_t i, k = 0;

	if ((l = calloc(n + 1, sizeof(*l))) == NULL)
		return CNIE_ERR_NOMEM;
	for (i = 0; i < n; i++)
		if (keep[i]) {
			l[k++] = names[i];
			names[i] = NULL;
		}
	*out = l;
	return 0;
}

int
cnie_pcsc_select_reader(cnie_pcsc *ctx, const char *wanted, unsigned flags, char **chosen,
    char ***matches)
{
	char **names = NULL;
	bool *fits = NULL;
	size_t n = 0, i, hits = 0, pick = 0;
	enum fit best = FIT_NONE, f;
	int r;

	if (matches != NULL)
		*matches = NULL;
	if (ctx == NULL || chosen == NULL)
		return CNIE_ERR_INVALID_ARG;
	*chosen = NULL;
	if ((r = cnie_pcsc_list_readers(ctx, &names, &n)) != 0)
		return r;
	if ((fits = calloc(n + 1, sizeof(*fits))) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	if (wanted != NULL && wanted[0] != '\0') {
		/* The best kind of fit wins; only a tie at that kind is ambiguous. */
		for (i = 0; i < n; i++)
			if ((f = name_fit(names[i], wanted, flags)) > best)
				best = f;
		for (i = 0; i < n; i++)
			if (best != FIT_NONE && name_fit(names[i], wanted, flags) == best) {
				fits[i] = true;
				pick = i;
				hits++;
			}
		r = hits == 0 ? CNIE_ERR_READER_NOT_FOUND : hits > 1 ? CNIE_ERR_INVALID_ARG : 0;
		if (r == 0 && (flags & CNIE_PCSC_SELECT_CARD) != 0 && !has_card(ctx, names[pick]))
			r = CNIE_ERR_NO_CARD;
	} else {
		for (i = 0; i < n; i++)
			if (has_card(ctx, names[i])) {
				fits[i] = true;
				pick = i;
				hits++;
			}
		r = hits == 0 ? CNIE_ERR_NO_CARD : hits > 1 ? CNIE_ERR_BUSY : 0;
	}
	if (r == 0) {
		*chosen = names[pick];
		names[pick] = NULL;
	} else if (hits > 1 && matches != NULL) {
		int e = take_names(names, n, fits, matches);

		if (e != 0)
			r = e;
	}
out:
	free(fits);
	/* Taken names left NULL holes: free by count, not to the first NULL. */
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	return r;
}
