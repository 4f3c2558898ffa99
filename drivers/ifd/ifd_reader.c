/*
 * One virtual reader: its configuration (DIR/reader.json), the card in it
 * (an emulator instance), the PIN-pad key queue and the control commands.
 *
 * reader.json:
 *   {"type": "contact" | "contactless" | "pinpad" | "pace",
 *    "card": "/abs/card-dir",        optional: the card inserted at start
 *    "state": "/abs/state-file",     optional: state file of that card
 *    "state_dir": "/abs/dir"}        optional: state files of cards inserted
 *                                    later: state_dir/<card dir name>.state.json
 * A card's state file that does not exist yet is seeded from the card's own
 * state.json (e.g. the blocked test card), so that a test run never writes
 * into the build's card directories.
 *
 * Locking: r->lk guards the reader; the emulator is only used under it.
 * Waits (PIN entry, reset) use r->cv, which releases the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/json.h>
#include <cnie/log.h>

#include "ifd.h"

#define STATE_SEED_MAX (256u * 1024u)

void
ifd_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int
ifd_reader_init(struct ifd_reader *r, unsigned idx)
{
	pthread_condattr_t ca;
	int r1, r2;

	memset(r, 0, sizeof(*r));
	r->idx = idx;
	r->listen_fd = -1;
	r->wake[0] = r->wake[1] = -1;
	if (pthread_condattr_init(&ca) != 0)
		return CNIE_ERR_NOMEM;
	r1 = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	r2 = r1 == 0 ? pthread_cond_init(&r->cv, &ca) : r1;
	pthread_condattr_destroy(&ca);
	if (r2 != 0)
		return CNIE_ERR_INTERNAL;
	if (pthread_mutex_init(&r->lk, NULL) != 0) {
		pthread_cond_destroy(&r->cv);
		return CNIE_ERR_INTERNAL;
	}
	return 0;
}

static void
set_error(struct ifd_reader *r, const char *what, int err)
{
	snprintf(r->last_error, sizeof(r->last_error), "%s: %s", what, cnie_strerror(err));
	cnie_log_error("reader %u: %s", r->idx, r->last_error);
}

/* Copies an absolute path without newline into dst. */
static int
copy_path(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (src == NULL || src[0] != '/' || strpbrk(src, "\n\r") != NULL)
		return CNIE_ERR_INVALID_ARG;
	n = strlen(src);
	if (n >= cap)
		return CNIE_ERR_TOO_LONG;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Reads at most max bytes of path into a fresh buffer. */
static int
read_small_file(const char *path, size_t max, char **out, size_t *out_len)
{
	char *p = NULL;
	size_t len = 0;
	ssize_t k;
	struct stat st;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? CNIE_ERR_NOT_FOUND : CNIE_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = CNIE_ERR_IO;
		goto out;
	}
	if ((p = malloc(max + 1)) == NULL) {
		r = CNIE_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		k = read(fd, p + len, max + 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = CNIE_ERR_IO;
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max) {
			r = CNIE_ERR_TOO_LONG;
			goto out;
		}
	}
	p[len] = '\0';
	*out = p;
	*out_len = len;
	p = NULL;
	r = 0;
out:
	free(p);
	close(fd);
	return r;
}

static int
json_path(json_t *o, const char *key, char *dst, size_t cap)
{
	json_t *v = json_object_get(o, key);

	dst[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return CNIE_ERR_ENCODING;
	return copy_path(dst, cap, json_string_value(v));
}

/* The fields of reader.json. */
static const char *const reader_keys[] = { "type", "card", "state", "state_dir", NULL };

int
ifd_reader_configure(struct ifd_reader *r, const char *dir)
{
	char path[PATH_MAX + 32];
	char *text = NULL;
	size_t len = 0;
	json_t *o = NULL;
	json_error_t jerr;
	const char *type;
	int rc;

	if ((rc = copy_path(r->dir, sizeof(r->dir), dir)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/reader.json", r->dir);
	if ((rc = read_small_file(path, IFD_CONFIG_MAX, &text, &len)) != 0)
		goto out;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL || !json_is_object(o)) {
		rc = CNIE_ERR_ENCODING;
		goto out;
	}
	if (cnie_json_only_keys(o, reader_keys, NULL) != 0) {
		rc = CNIE_ERR_ENCODING; /* a typo must not pass silently */
		goto out;
	}
	type = json_string_value(json_object_get(o, "type"));
	if (type == NULL) {
		rc = CNIE_ERR_ENCODING;
		goto out;
	}
	if (strcmp(type, "contact") == 0)
		r->type = IFD_TYPE_CONTACT;
	else if (strcmp(type, "contactless") == 0)
		r->type = IFD_TYPE_CONTACTLESS;
	else if (strcmp(type, "pinpad") == 0)
		r->type = IFD_TYPE_PINPAD;
	else if (strcmp(type, "pace") == 0)
		r->type = IFD_TYPE_PACE; /* contactless, keypad, EXECUTE_PACE (ifd_pace.c) */
	else {
		rc = CNIE_ERR_ENCODING;
		goto out;
	}
	if ((rc = json_path(o, "card", r->cfg_card, sizeof(r->cfg_card))) != 0 ||
	    (rc = json_path(o, "state", r->cfg_state, sizeof(r->cfg_state))) != 0 ||
	    (rc = json_path(o, "state_dir", r->state_dir, sizeof(r->state_dir))) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		cnie_log_error("%s/reader.json: %s", dir != NULL ? dir : "(null)",
		    cnie_strerror(rc));
	json_decref(o);
	free(text);
	return rc;
}

/* Creates dst (mode 0600) with the contents of src, unless dst exists. */
static int
seed_state(const char *src, const char *dst)
{
	char *text = NULL;
	size_t len = 0, done = 0;
	ssize_t k;
	int fd = -1, rc;

	if (access(dst, F_OK) == 0)
		return 0;
	if ((rc = read_small_file(src, STATE_SEED_MAX, &text, &len)) != 0)
		return rc == CNIE_ERR_NOT_FOUND ? 0 : rc;
	if ((fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		rc = errno == EEXIST ? 0 : CNIE_ERR_IO;
		goto out;
	}
	while (done < len) {
		k = write(fd, text + done, len - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = CNIE_ERR_IO;
			goto out;
		}
		done += (size_t)k;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = CNIE_ERR_IO;
	if (rc != 0 && fd >= 0)
		unlink(dst);
	free(text);
	return rc;
}

/* The state file of card_dir in this reader ("" = the card's own). */
static int
derive_state(const struct ifd_reader *r, const char *card_dir, char *out, size_t cap)
{
	const char *base;
	size_t n;
	int k;

	out[0] = '\0';
	if (r->cfg_state[0] != '\0' && strcmp(card_dir, r->cfg_card) == 0)
		return copy_path(out, cap, r->cfg_state);
	if (r->state_dir[0] == '\0')
		return 0;
	n = strlen(card_dir);
	while (n > 1 && card_dir[n - 1] == '/')
		n--;
	base = card_dir + n;
	while (base > card_dir && base[-1] != '/')
		base--;
	if ((size_t)(card_dir + n - base) == 0)
		return CNIE_ERR_INVALID_ARG;
	k = snprintf(out, cap, "%s/%.*s.state.json", r->state_dir, (int)(card_dir + n - base),
	    base);
	if (k < 0 || (size_t)k >= cap)
		return CNIE_ERR_TOO_LONG;
	return 0;
}

int
ifd_reader_insert(struct ifd_reader *r, const char *card_dir, const char *state_path)
{
	char card[PATH_MAX], state[PATH_MAX], seed[PATH_MAX + 16];
	cnie_emu *emu = NULL;
	int rc;

	if (r->emu != NULL)
		return CNIE_ERR_BUSY;
	if ((rc = copy_path(card, sizeof(card), card_dir)) != 0)
		return rc;
	if (state_path != NULL)
		rc = copy_path(state, sizeof(state), state_path);
	else
		rc = derive_state(r, card, state, sizeof(state));
	if (rc != 0)
		return rc;
	if (state[0] != '\0') {
		snprintf(seed, sizeof(seed), "%s/state.json", card);
		if ((rc = seed_state(seed, state)) != 0) {
			set_error(r, "cannot seed the card state", rc);
			return rc;
		}
	}
	if ((rc = cnie_emu_open(card, state[0] != '\0' ? state : NULL, &emu)) != 0) {
		set_error(r, "cannot load the card", rc);
		return rc;
	}
	r->emu = emu;
	memcpy(r->card, card, sizeof(card));
	memcpy(r->state, state, sizeof(state));
	r->powered = false;
	r->atr_len = 0;
	r->last_error[0] = '\0';
	r->gen++;
	pthread_cond_broadcast(&r->cv);
	cnie_log_info("reader %u: card inserted", r->idx);
	return 0;
}

static void
drop_keys(struct ifd_reader *r)
{
	cnie_wipe(r->keys, sizeof(r->keys));
	r->nkeys = 0;
}

int
ifd_reader_remove(struct ifd_reader *r)
{
	if (r->emu == NULL)
		return CNIE_ERR_NO_CARD;
	/* The reader's PACE session ends with the card (ifd_pace.c). */
	ifd_pace_end(r);
	if (r->powered)
		cnie_emu_power_off(r->emu);
	cnie_emu_free(&r->emu);
	r->powered = false;
	r->atr_len = 0;
	r->card[0] = r->state[0] = '\0';
	/* A real PIN pad does not keep keys typed for a card that left. */
	drop_keys(r);
	r->gen++;
	pthread_cond_broadcast(&r->cv);
	cnie_log_info("reader %u: card removed", r->idx);
	return 0;
}

void
ifd_reader_clear(struct ifd_reader *r)
{
	if (r->emu != NULL)
		(void)ifd_reader_remove(r);
	ifd_pace_end(r);
	drop_keys(r);
}

int
ifd_reader_transmit(struct ifd_reader *r, const uint8_t *cmd, size_t n, uint8_t *resp,
    size_t *resp_len)
{
	size_t len = CNIE_EMU_MAX_RESP;
	int rc;

	if (r->emu == NULL)
		return CNIE_ERR_NO_CARD;
	if (!r->powered)
		return CNIE_ERR_STATE;
	if (cmd == NULL || n < 4 || n > IFD_MAX_COMMAND || resp == NULL || resp_len == NULL)
		return CNIE_ERR_INVALID_ARG;
	if ((rc = cnie_emu_transmit(r->emu, cmd, n, r->scratch, &len)) != 0)
		return rc;
	r->apdus++;
	/* The caller's buffer is checked before anything is written to it. */
	if (len > CNIE_EMU_MAX_RESP) {
		rc = CNIE_ERR_INTERNAL;
	} else if (len > *resp_len) {
		rc = CNIE_ERR_BUFFER_TOO_SMALL;
	} else {
		memcpy(resp, r->scratch, len);
		*resp_len = len;
		rc = 0;
	}
	/* Responses carry identity data: none stays behind. */
	cnie_wipe(r->scratch, len <= CNIE_EMU_MAX_RESP ? len : CNIE_EMU_MAX_RESP);
	return rc;
}

int
ifd_reader_take_key(struct ifd_reader *r, unsigned timeout_s, struct ifd_key *k)
{
	struct timespec dl;
	uint64_t gen = r->gen;
	int rc;

	memset(k, 0, sizeof(*k));
	ifd_deadline(&dl, (long)timeout_s * 1000);
	r->pin_waiting = true;
	pthread_cond_broadcast(&r->cv);
	while (r->nkeys == 0) {
		if (!r->open || r->emu == NULL || r->gen != gen) {
			rc = CNIE_ERR_NO_CARD;
			goto out;
		}
		if (pthread_cond_timedwait(&r->cv, &r->lk, &dl) == ETIMEDOUT && r->nkeys == 0) {
			rc = CNIE_ERR_TIMEOUT;
			goto out;
		}
	}
	if (!r->open || r->emu == NULL || r->gen != gen) {
		rc = CNIE_ERR_NO_CARD;
		goto out;
	}
	*k = r->keys[0];
	memmove(&r->keys[0], &r->keys[1], (r->nkeys - 1) * sizeof(r->keys[0]));
	r->nkeys--;
	cnie_wipe(&r->keys[r->nkeys], sizeof(r->keys[0]));
	rc = k->kind == IFD_KEY_CANCEL ? CNIE_ERR_CANCELLED :
	    k->kind == IFD_KEY_TIMEOUT ? CNIE_ERR_TIMEOUT : 0;
out:
	r->pin_waiting = false;
	return rc;
}

/* ---- control commands ----------------------------------------------- */

static const char *
type_name(enum ifd_type t)
{
	switch (t) {
	case IFD_TYPE_CONTACT:
		return "contact";
	case IFD_TYPE_CONTACTLESS:
		return "contactless";
	case IFD_TYPE_PINPAD:
		return "pinpad";
	case IFD_TYPE_PACE:
		return "pace";
	}
	return "?";
}

static void
reply_err(char *reply, size_t cap, const char *msg, int err)
{
	if (err != 0)
		snprintf(reply, cap, "error %s: %s", msg, cnie_strerror(err));
	else
		snprintf(reply, cap, "error %s", msg);
}

static void
cmd_status(struct ifd_reader *r, char *reply, size_t cap)
{
	json_t *o;
	char *s = NULL;

	o = json_pack("{s:i, s:s, s:o, s:b, s:b, s:i, s:b, s:I, s:o, s:s}", "reader",
	    (int)r->idx, "type", type_name(r->type), "card",
	    r->emu != NULL ? json_string(r->card) : json_null(), "present", r->emu != NULL,
	    "powered", r->powered, "keys", (int)r->nkeys, "pin_waiting", r->pin_waiting,
	    "apdus", (json_int_t)r->apdus, "error",
	    r->last_error[0] != '\0' ? json_string(r->last_error) : json_null(),
	    /* The reader's own PACE channel (type "pace"): none, up, or broken. */
	    "pace", r->pace_sm != NULL ? "up" : r->pace_failed ? "failed" : "none");
	if (o != NULL)
		s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s != NULL && strlen(s) + 4 <= cap)
		snprintf(reply, cap, "ok %s", s);
	else
		reply_err(reply, cap, "status", CNIE_ERR_NOMEM);
	free(s);
	json_decref(o);
}

/* Waits until pcscd's event thread has seen the current card state. */
static void
wait_seen(struct ifd_reader *r)
{
	struct timespec dl;

	if (!r->polled)
		return;
	ifd_deadline(&dl, IFD_RESET_SEEN_MS);
	while (r->open && r->seen_gen != r->gen) {
		if (pthread_cond_timedwait(&r->cv, &r->lk, &dl) == ETIMEDOUT)
			break;
	}
}

/*
 * reset: pcsc-lite tells a card reset to its clients only when a client
 * resets the card (SCARD_RESET_CARD); the driver has no way to raise it.
 * So a reset is a removal that pcscd is given time to see, then the same
 * card is inserted again: the emulator drops its security state (power
 * cycle) and every client handle gets SCARD_W_REMOVED_CARD.
 */
static int
cmd_reset(struct ifd_reader *r)
{
	char card[PATH_MAX], state[PATH_MAX];
	int rc;

	if (r->emu == NULL)
		return CNIE_ERR_NO_CARD;
	memcpy(card, r->card, sizeof(card));
	memcpy(state, r->state, sizeof(state));
	if ((rc = ifd_reader_remove(r)) != 0)
		return rc;
	wait_seen(r);
	if (!r->open)
		return CNIE_ERR_STATE;
	return ifd_reader_insert(r, card, state[0] != '\0' ? state : NULL);
}

static int
push_key(struct ifd_reader *r, const char *tok)
{
	struct ifd_key *k;
	size_t n, i;

	if (r->nkeys >= IFD_KEYS_MAX)
		return CNIE_ERR_BUSY;
	k = &r->keys[r->nkeys];
	memset(k, 0, sizeof(*k));
	if (strcmp(tok, "cancel") == 0) {
		k->kind = IFD_KEY_CANCEL;
	} else if (strcmp(tok, "timeout") == 0) {
		k->kind = IFD_KEY_TIMEOUT;
	} else {
		n = strlen(tok);
		if (n == 0 || n > IFD_PIN_MAX)
			return CNIE_ERR_PIN_FORMAT;
		for (i = 0; i < n; i++) {
			if (tok[i] < '0' || tok[i] > '9')
				return CNIE_ERR_PIN_FORMAT;
		}
		k->kind = IFD_KEY_DIGITS;
		k->len = n;
		memcpy(k->digits, tok, n);
	}
	r->nkeys++;
	return 0;
}

void
ifd_reader_command(struct ifd_reader *r, char *line, char *reply, size_t cap)
{
	char *save = NULL, *cmd, *a1, *a2, *tok;
	size_t queued = 0;
	int rc;

	cmd = strtok_r(line, " \t", &save);
	if (cmd == NULL) {
		reply_err(reply, cap, "empty command", 0);
		return;
	}
	pthread_mutex_lock(&r->lk);
	if (!r->open) {
		reply_err(reply, cap, "reader closing", 0);
	} else if (strcmp(cmd, "status") == 0) {
		cmd_status(r, reply, cap);
	} else if (strcmp(cmd, "insert") == 0) {
		a1 = strtok_r(NULL, " \t", &save);
		a2 = strtok_r(NULL, " \t", &save);
		if (a1 == NULL || strtok_r(NULL, " \t", &save) != NULL)
			reply_err(reply, cap, "usage: insert CARDDIR [STATEFILE]", 0);
		else if ((rc = ifd_reader_insert(r, a1, a2)) != 0)
			reply_err(reply, cap, rc == CNIE_ERR_BUSY ? "a card is already inserted" :
			    "insert", rc == CNIE_ERR_BUSY ? 0 : rc);
		else
			snprintf(reply, cap, "ok inserted");
	} else if (strcmp(cmd, "remove") == 0) {
		if ((rc = ifd_reader_remove(r)) != 0)
			reply_err(reply, cap, "no card", 0);
		else
			snprintf(reply, cap, "ok removed");
	} else if (strcmp(cmd, "reset") == 0) {
		if ((rc = cmd_reset(r)) != 0)
			reply_err(reply, cap, "reset", rc);
		else
			snprintf(reply, cap, "ok reset");
	} else if (strcmp(cmd, "keys") == 0) {
		if (r->type != IFD_TYPE_PINPAD && r->type != IFD_TYPE_PACE) {
			reply_err(reply, cap, "not a reader with a keypad", 0);
		} else {
			size_t before = r->nkeys;

			rc = 0;
			while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
				if (strcmp(tok, "clear") == 0) {
					drop_keys(r);
					before = 0;
					continue;
				}
				if ((rc = push_key(r, tok)) != 0)
					break;
				queued++;
			}
			/* All or nothing: a rejected line queues no entry. */
			if (rc != 0) {
				cnie_wipe(&r->keys[before], (r->nkeys - before) * sizeof(r->keys[0]));
				r->nkeys = before;
			}
			pthread_cond_broadcast(&r->cv);
			/* Never echo what was typed. */
			if (rc != 0)
				reply_err(reply, cap, "keys", rc);
			else
				snprintf(reply, cap, "ok queued %zu", queued);
		}
	} else {
		reply_err(reply, cap, "unknown command (insert, remove, reset, status, keys)", 0);
	}
	pthread_mutex_unlock(&r->lk);
}
