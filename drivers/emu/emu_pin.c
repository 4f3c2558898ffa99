/*
 * PINs and PUKs (ISO 7816-4 clause 7.5: VERIFY 20, CHANGE REFERENCE DATA
 * 24, RESET RETRY COUNTER 2C) and their persistent state (state.json,
 * docs/card-dir.md).
 *
 * Our choices (docs/card-profile.md, "PIN rules"):
 *  - a PIN reference is DF-specific (P2 b8 = 1): the PIN answers only
 *    with its application selected, else 6A88;
 *  - a value whose length is outside min..max is refused with 6A80 and
 *    spends no try (it cannot be the PIN; the bounds are public in the
 *    AODF).  Any other wrong value spends one: 63Cx, x = tries left;
 *    VERIFY at 0 tries answers 6983;
 *  - CHANGE REFERENCE DATA and RESET RETRY COUNTER carry each value padded
 *    with FF up to its reference's max length, so the split is unambiguous:
 *    24 00 ref: old(max, FF-padded) || new(max, FF-padded);
 *    2C 00 ref: PUK(PUK max) || new PIN(PIN max); 2C 01 ref: PUK(PUK max);
 *  - every counter or value change is written to the state file before
 *    the answer (write a temporary file, fsync, rename, fsync the
 *    directory), so pulling the plug cannot give a try back.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <cnie/error.h>

#include "emu_int.h"

#define STATE_NAME "state.json"
#define PAD 0xFF

int
emu_pin_user(const cnie_emu *e)
{
	size_t i, j;

	for (i = 0; i < e->npins; i++) {
		for (j = 0; j < e->npins; j++)
			if (e->pins[j].puk == (int)i)
				break;
		if (j == e->npins)
			return (int)i;
	}
	return -1;
}

void
emu_pin_reset_session(cnie_emu *e)
{
	size_t i;

	for (i = 0; i < e->npins; i++)
		e->pins[i].verified = false;
	e->sign_permit = -1;
}

static int
state_fail(char *err, size_t errlen, const char *what)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, STATE_NAME ": %s", what);
	return CNIE_ERR_ENCODING;
}

int
emu_pin_load_state(cnie_emu *e, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = NULL, *pins, *o, *v;
	const char *name, *k, *s;
	struct emu_pin *p;
	char what[96];
	size_t n, i;
	int r = 0, idx;

	if (access(e->state_path, F_OK) != 0 && errno == ENOENT)
		return 0; /* absent: counters at their maximum */
	if ((root = json_load_file(e->state_path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(what, sizeof(what), "line %d: %.60s", jerr.line, jerr.text);
		return state_fail(err, errlen, what);
	}
	if (!json_is_object(root)) {
		r = state_fail(err, errlen, "expected an object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "format") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) != 1) {
				r = state_fail(err, errlen, "format: expected 1");
				goto out;
			}
		} else if (strcmp(k, "pins") != 0) {
			snprintf(what, sizeof(what), "%s: unknown field", k);
			r = state_fail(err, errlen, what);
			goto out;
		}
	}
	if (!json_is_integer(json_object_get(root, "format"))) {
		r = state_fail(err, errlen, "format: missing");
		goto out;
	}
	if ((pins = json_object_get(root, "pins")) == NULL)
		goto out;
	if (!json_is_object(pins)) {
		r = state_fail(err, errlen, "pins: expected an object");
		goto out;
	}
	json_object_foreach(pins, name, o) {
		idx = -1;
		for (i = 0; i < e->npins; i++)
			if (strcmp(e->pins[i].name, name) == 0)
				idx = (int)i;
		if (idx < 0 || !json_is_object(o)) {
			snprintf(what, sizeof(what), "pins.%.32s: not a PIN of card.json", name);
			r = state_fail(err, errlen, what);
			goto out;
		}
		p = &e->pins[idx];
		json_object_foreach(o, k, v) {
			if (strcmp(k, "tries") == 0) {
				if (!json_is_integer(v) || json_integer_value(v) < 0 ||
				    json_integer_value(v) > p->tries_max) {
					snprintf(what, sizeof(what),
					    "pins.%.32s.tries: expected an integer 0..%d", name,
					    p->tries_max);
					r = state_fail(err, errlen, what);
					goto out;
				}
				p->tries = (int)json_integer_value(v);
			} else if (strcmp(k, "value") == 0) {
				s = json_is_string(v) ? json_string_value(v) : "";
				n = strlen(s);
				for (i = 0; i < n; i++)
					if (s[i] < 0x20 || s[i] > 0x7E)
						break;
				if (!json_is_string(v) || n != json_string_length(v) || i != n ||
				    n < p->min || n > p->max) {
					snprintf(what, sizeof(what),
					    "pins.%.32s.value: printable ASCII, %zu..%zu characters",
					    name, p->min, p->max);
					r = state_fail(err, errlen, what);
					goto out;
				}
				memcpy(p->value, s, n + 1);
				p->changed = true;
			} else {
				snprintf(what, sizeof(what), "pins.%.32s.%.32s: unknown field", name, k);
				r = state_fail(err, errlen, what);
				goto out;
			}
		}
	}
out:
	json_decref(root);
	return r;
}

/* Writes all of buf to fd. */
static int
write_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, buf, n)) < 0) {
			if (errno == EINTR)
				continue;
			return CNIE_ERR_IO;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Atomic replacement of the state file: temporary + fsync + rename + fsync(dir). */
static int
save_state(cnie_emu *e)
{
	json_t *root = NULL, *pins, *o;
	char *text = NULL, *tmp = NULL, *dcopy = NULL;
	size_t i;
	int fd = -1, dfd, r = CNIE_ERR_NOMEM;

	if (e->no_persist)
		return 0;
	if ((root = json_object()) == NULL || (pins = json_object()) == NULL ||
	    json_object_set_new(root, "format", json_integer(1)) != 0 ||
	    json_object_set_new(root, "pins", pins) != 0)
		goto out;
	for (i = 0; i < e->npins; i++) {
		if ((o = json_object()) == NULL ||
		    json_object_set_new(pins, e->pins[i].name, o) != 0 ||
		    json_object_set_new(o, "tries", json_integer(e->pins[i].tries)) != 0)
			goto out;
		/* The value only once changed: a test card's secrets are test data. */
		if (e->pins[i].changed &&
		    json_object_set_new(o, "value", json_string(e->pins[i].value)) != 0)
			goto out;
	}
	if ((text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL ||
	    asprintf(&tmp, "%s.XXXXXX", e->state_path) < 0) {
		tmp = NULL;
		goto out;
	}
	r = CNIE_ERR_IO;
	if ((fd = mkstemp(tmp)) < 0) {
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0 ||
	    fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, e->state_path) != 0)
		goto out;
	free(tmp);
	tmp = NULL;
	/* The rename itself must reach the disk. */
	if ((dcopy = strdup(e->state_path)) != NULL &&
	    (dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	free(dcopy);
	if (text != NULL)
		cnie_freezero(text, strlen(text));
	json_decref(root);
	return r;
}

/*
 * The reference in P2 (ISO 7816-4 7.5.6: b8 = 1 specific reference, b5-b1
 * its number), looked up in the current DF.
 */
static struct emu_pin *
find_pin(cnie_emu *e, uint8_t ref)
{
	size_t i;

	for (i = 0; i < e->npins; i++)
		if (e->pins[i].ref == ref &&
		    (e->pins[i].app < 0 || e->pins[i].app == e->cur_df))
			return &e->pins[i];
	return NULL;
}

static bool
pin_matches(const struct emu_pin *p, const uint8_t *v, size_t n)
{
	size_t len = strlen(p->value);
	uint8_t ref[EMU_PIN_LEN_MAX];
	bool eq;

	/* Compare over max bytes whatever the length, in constant time. */
	memset(ref, PAD, sizeof(ref));
	memcpy(ref, p->value, len);
	{
		uint8_t got[EMU_PIN_LEN_MAX];

		memset(got, PAD, sizeof(got));
		memcpy(got, v, n);
		eq = (cnie_memeq_ct(ref, got, p->max) == 0) & (n == len);
		cnie_wipe(got, sizeof(got));
	}
	cnie_wipe(ref, sizeof(ref));
	return eq;
}

/*
 * One value padded with FF to max bytes: the characters, then only FF.
 * *n gets the unpadded length; false when malformed or out of min..max.
 */
static bool
split_padded(const struct emu_pin *p, const uint8_t *v, size_t *n)
{
	size_t i, len = 0;

	while (len < p->max && v[len] != PAD)
		len++;
	for (i = len; i < p->max; i++)
		if (v[i] != PAD)
			return false;
	for (i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] > 0x7E)
			return false;
	*n = len;
	return len >= p->min && len <= p->max;
}

/* A wrong value: one try less, persisted before the answer. */
static int
spend_try(cnie_emu *e, struct emu_pin *p, uint16_t *sw)
{
	if (p->tries > 0)
		p->tries--;
	p->verified = false;
	if (e->sign_permit == (int)(p - e->pins))
		e->sign_permit = -1;
	if (save_state(e) != 0) {
		*sw = SW_MEMORY;
		return 0;
	}
	*sw = (uint16_t)(0x63C0 | (unsigned)p->tries);
	return 0;
}

static int
restore_tries(cnie_emu *e, struct emu_pin *p, uint16_t *sw)
{
	*sw = SW_OK;
	if (p->tries == p->tries_max)
		return 0;
	p->tries = p->tries_max;
	if (save_state(e) != 0)
		*sw = SW_MEMORY;
	return 0;
}

int
emu_pin_verify(cnie_emu *e, const cnie_apdu *a, uint16_t *sw)
{
	struct emu_pin *p;

	if (a->p1 != 0x00 && a->p1 != 0xFF) {
		*sw = SW_WRONG_P1P2;
		return 0;
	}
	if ((p = find_pin(e, a->p2)) == NULL) {
		*sw = SW_REF_NOT_FOUND;
		return 0;
	}
	if (a->p1 == 0xFF) {
		/* ISO 7816-4:2013 11.5.6: P1 = FF resets the verification status. */
		if (a->nc != 0) {
			*sw = SW_WRONG_LENGTH;
			return 0;
		}
		p->verified = false;
		if (e->sign_permit == (int)(p - e->pins))
			e->sign_permit = -1;
		*sw = SW_OK;
		return 0;
	}
	if (a->nc == 0) {
		/* No data: the status (ISO 7816-4 7.5.6). */
		if (p->tries == 0)
			*sw = SW_BLOCKED;
		else if (p->verified)
			*sw = SW_OK;
		else
			*sw = (uint16_t)(0x63C0 | (unsigned)p->tries);
		return 0;
	}
	if (p->tries == 0) {
		*sw = SW_BLOCKED;
		return 0;
	}
	if (a->nc < p->min || a->nc > p->max) {
		*sw = SW_WRONG_DATA;
		return 0;
	}
	if (!pin_matches(p, a->data, a->nc))
		return spend_try(e, p, sw);
	p->verified = true;
	/* Arms one signature with an always_pin key (docs/card-profile.md 3: PIN before each). */
	e->sign_permit = (int)(p - e->pins);
	return restore_tries(e, p, sw);
}

int
emu_pin_change(cnie_emu *e, const cnie_apdu *a, uint16_t *sw)
{
	struct emu_pin *p;
	size_t on, nn;

	/* P1 = 01 (new value only) is not offered: the old PIN is always proven. */
	if (a->p1 != 0x00) {
		*sw = SW_WRONG_P1P2;
		return 0;
	}
	if ((p = find_pin(e, a->p2)) == NULL) {
		*sw = SW_REF_NOT_FOUND;
		return 0;
	}
	if (p->tries == 0) {
		*sw = SW_BLOCKED;
		return 0;
	}
	if (a->nc != 2 * p->max) {
		*sw = SW_WRONG_LENGTH;
		return 0;
	}
	if (!split_padded(p, a->data, &on) || !split_padded(p, a->data + p->max, &nn)) {
		*sw = SW_WRONG_DATA;
		return 0;
	}
	if (!pin_matches(p, a->data, on))
		return spend_try(e, p, sw);
	cnie_wipe(p->value, sizeof(p->value));
	memcpy(p->value, a->data + p->max, nn);
	p->changed = true;
	p->tries = p->tries_max;
	p->verified = true;
	*sw = save_state(e) == 0 ? SW_OK : SW_MEMORY;
	return 0;
}

int
emu_pin_reset_retry(cnie_emu *e, const cnie_apdu *a, uint16_t *sw)
{
	struct emu_pin *p, *k;
	size_t kn, nn = 0;

	if (a->p1 != 0x00 && a->p1 != 0x01) {
		*sw = SW_WRONG_P1P2;
		return 0;
	}
	if ((p = find_pin(e, a->p2)) == NULL) {
		*sw = SW_REF_NOT_FOUND;
		return 0;
	}
	if (p->puk < 0) {
		*sw = SW_CONDITIONS; /* nothing unblocks this reference */
		return 0;
	}
	k = &e->pins[p->puk];
	if (k->tries == 0) {
		*sw = SW_BLOCKED;
		return 0;
	}
	if (a->nc != k->max + (a->p1 == 0x00 ? p->max : 0)) {
		*sw = SW_WRONG_LENGTH;
		return 0;
	}
	if (!split_padded(k, a->data, &kn) ||
	    (a->p1 == 0x00 && !split_padded(p, a->data + k->max, &nn))) {
		*sw = SW_WRONG_DATA;
		return 0;
	}
	if (!pin_matches(k, a->data, kn))
		return spend_try(e, k, sw);
	k->tries = k->tries_max;
	p->tries = p->tries_max;
	p->verified = false;
	if (a->p1 == 0x00) {
		cnie_wipe(p->value, sizeof(p->value));
		memcpy(p->value, a->data + k->max, nn);
		p->changed = true;
	}
	*sw = save_state(e) == 0 ? SW_OK : SW_MEMORY;
	return 0;
}
