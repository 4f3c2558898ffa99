/*
 * Worker side: the operation table and what the operations share (reader
 * choice, opening the PKI application, the PIN, the keys).  The
 * operations themselves are one file each (op_*.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cnie/base64.h>
#include <cnie/error.h>
#include <cnie/refcard.h>

#include "ops.h"

static const struct {
	cnied_op op;
	const char *name; /* audit and logs */
} op_table[] = {
	{CNIED_OP_CERT, "certificate"},
	{CNIED_OP_AUTH, "authenticate"},
	{CNIED_OP_SIGN, "sign"},
	{CNIED_OP_IDENTITY, "identity"},
	{0, "?"}, /* last: any other value */
};

/* The op's row, or the last resort row for an unknown op. */
static size_t
op_row(cnied_op op)
{
	size_t i;

	for (i = 0; i < sizeof(op_table) / sizeof(op_table[0]) - 1; i++)
		if (op_table[i].op == op)
			break;
	return i;
}

const char *
cnied_op_name(cnied_op op)
{
	return op_table[op_row(op)].name;
}

void
cnied_op_asks(char *out, size_t max, const cnied_job *job)
{
	/* One whole sentence per operation: translators never see fragments. */
	switch (job->op) {
	case CNIED_OP_CERT:
		snprintf(out, max, _("%s wants to read a certificate from your CNIE card."),
		    job->origin);
		break;
	case CNIED_OP_AUTH:
		snprintf(out, max, _("%s wants to log you in with your CNIE card."), job->origin);
		break;
	case CNIED_OP_SIGN:
		snprintf(out, max, _("%s wants to sign a document with your CNIE card."),
		    job->origin);
		break;
	case CNIED_OP_IDENTITY:
		snprintf(out, max, _("%s wants to read your identity from your CNIE card."),
		    job->origin);
		break;
	default:
		snprintf(out, max, _("%s wants to use your CNIE card."), job->origin);
		break;
	}
}

void
cnied_card_ctx_init(cnied_card_ctx *w, const cnied_config *cfg)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	snprintf(w->ref_state, sizeof(w->ref_state), "%s/refcard-state.json", cfg->state_dir);
	cnied_tries_init(&w->tries);
}

void
cnied_card_ctx_clear(cnied_card_ctx *w)
{
	cnie_card_free(&w->ref_card);
	cnie_pcsc_free(&w->pcsc);
}

int
cnied_pick_reader(cnied_card_ctx *w, const char *wanted, char *out, size_t max)
{
	char *chosen = NULL;
	bool fresh = false;
	int r;

again:
	if (w->pcsc == NULL) {
		if ((r = cnie_pcsc_new(&w->pcsc)) != 0)
			return r;
		fresh = true;
	}
	/* A page names a reader by its full name, as /v1/status lists it. */
	r = cnie_pcsc_select_reader(w->pcsc, wanted, CNIE_PCSC_SELECT_EXACT |
	    CNIE_PCSC_SELECT_CARD, &chosen, NULL);
	if (r == CNIE_ERR_NO_SERVICE || r == CNIE_ERR_STATE || r == CNIE_ERR_COMM) {
		/* pcscd restarted: our context is stale; one new one at once. */
		cnie_pcsc_free(&w->pcsc);
		if (!fresh)
			goto again;
		return r;
	}
	if (r == CNIE_ERR_BUSY) /* several cards and none named */
		return CNIED_ERR_MULTIPLE;
	if (r == 0)
		snprintf(out, max, "%s", chosen);
	free(chosen);
	return r;
}

int
cnied_ask_can(cnied_card_ctx *w, const cnied_job *job, char *can, size_t max)
{
	char asks[512], desc[1024];
	cnie_pinentry_text t = {_("CNIE card"), desc, _("CAN:"), _("Continue"), _("Cancel"),
	    NULL};
	int r;

	/* Kiosk mode: no CAN dialog (kiosk.c). */
	if ((r = cnied_kiosk_can_dialog(w->cfg)) != 0)
		return r;
	cnied_op_asks(asks, sizeof(asks), job);
	snprintf(desc, sizeof(desc), "%s\n%s", asks,
	    _("Enter the 6-digit card access number (CAN) printed on the front of your CNIE "
	    "card."));
	return cnied_pinentry_getpin(w->cfg, &t, can, max);
}

int
cnied_card_open(cnied_card_ctx *w, cnied_job *job, const char *want, cnie_card **out,
    char *reader, size_t rmax, char *can)
{
	cnie_transport *t = NULL;
	int r;

	*out = NULL;
	can[0] = '\0';
	if (w->cfg->refcard_dir != NULL) {
		snprintf(reader, rmax, "%s", CNIED_REFCARD_READER);
		if (w->ref_card == NULL) {
			if ((r = cnie_refcard_open(w->cfg->refcard_dir, w->ref_state, false, &t)) != 0)
				return r;
			if ((r = cnie_card_open(t, &w->ref_card)) != 0)
				return r;
		}
		*out = w->ref_card;
		return 0;
	}
	if ((r = cnied_pick_reader(w, want, reader, rmax)) != 0)
		return r;
	r = cnie_card_open_reader(w->pcsc, reader, out);
	if (r != CNIE_ERR_NEED_CAN)
		goto done;
	if ((r = cnied_ask_can(w, job, can, CNIED_SECRET_MAX)) != 0)
		goto done;
	if ((r = cnie_pcsc_connect(w->pcsc, reader, &t)) == 0)
		r = cnie_card_open_ex(t, can, out);
	if (r != 0)
		OPENSSL_cleanse(can, CNIED_SECRET_MAX);
done:
	if (r == 0 || r == CNIE_ERR_CARD_NOT_RECOGNISED)
		cnied_readers_note(reader, r == 0,
		    r == 0 && cnie_transport_get_caps(cnie_card_transport(*out))->pinpad_verify);
	return r;
}

void
cnied_card_release(cnied_card_ctx *w, cnie_card **c, int err)
{
	if (*c == NULL)
		return;
	if (*c == w->ref_card) {
		/* A broken session is reopened on the next job. */
		if (err == CNIE_ERR_CARD_REMOVED || err == CNIE_ERR_CARD_RESET ||
		    err == CNIE_ERR_COMM || err == CNIE_ERR_SM)
			cnie_card_free(&w->ref_card);
		*c = NULL;
		return;
	}
	cnie_card_free(c);
}

int
cnied_find_key(cnie_card *c, bool sign, cnie_card_key_info *ki)
{
	size_t n, i;
	int r;

	if ((r = cnie_card_key_count(c, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = cnie_card_get_key(c, i, ki)) != 0)
			return r;
		if (sign && (ki->usage & CNIE_CARD_USAGE_NON_REPUDIATION))
			return 0;
		if (!sign && (ki->usage & CNIE_CARD_USAGE_SIGN) &&
		    !(ki->usage & CNIE_CARD_USAGE_NON_REPUDIATION))
			return 0;
	}
	return CNIE_ERR_NOT_FOUND;
}

int
cnied_key_cert(cnied_job *job, cnie_card *c, const cnie_card_key_info *ki,
    const uint8_t **der, size_t *der_len)
{
	int r = cnie_card_certificate(c, ki->id, ki->id_len, der, der_len);

	if (r == 0) {
		SHA256(*der, *der_len, job->cert_fp);
		job->has_fp = true;
	}
	return r;
}

/* The SETERROR text after a PIN the card did not take: the tries left, in words. */
static void
retry_text(char *out, size_t max, int r, int tries)
{
	if (r == CNIE_ERR_PIN_FORMAT)
		snprintf(out, max, "%s", _("This is not a valid PIN: a PIN has only digits, and "
		    "as many as the card expects. No try was used."));
	else if (tries == 1)
		snprintf(out, max, "%s", _("Wrong PIN. This is your last try: if this PIN is wrong "
		    "too, the PIN will be blocked."));
	else if (tries > 1)
		snprintf(out, max, ngettext("Wrong PIN: %d try left.", "Wrong PIN: %d tries left.",
		    (unsigned long)tries), tries);
	else
		snprintf(out, max, "%s", _("Wrong PIN."));
}

/* A dialog saying the PIN is blocked and what to do next (none in kiosk mode). */
static void
pin_blocked_advice(cnied_card_ctx *w, const cnied_job *job)
{
	char desc[1024];
	cnie_pinentry_text t = {_("CNIE card PIN"), desc, NULL, _("Close"), NULL, NULL};

	/* Kiosk mode opens no dialog: the page shows the pin-blocked answer. */
	if (cnied_kiosk_pin_dialog(w->cfg) != 0)
		return;
	snprintf(desc, sizeof(desc), _("The PIN of your CNIE card is blocked: it was entered "
	    "wrongly too many times. %s cannot use your card until the PIN is unblocked.\n"
	    "To unblock it with the PUK code of your card, run: cnie-tool pin unblock\n"
	    "If you do not have your PUK, ask the authority that issued your card."),
	    job->origin);
	/* Dismissed, cancelled or timed out: the answer is pin-blocked all the same. */
	(void)cnied_pinentry_message(w->cfg, &t);
}

/*
 * The PIN on the PIN pad when the reader has one, else through pinentry.
 * The first dialog shows the tries left that this card last reported in
 * this reader (tries.c).  A PIN the card refuses is asked again in the same
 * request, with SETERROR naming the tries left: each try is a new entry by
 * the holder, never the software sending a PIN again.  The request ends
 * with the right PIN, a cancel, or a blocked PIN.  A blocked PIN (found by
 * an empty VERIFY, which spends no try, before any dialog, or by the last
 * wrong try) gets a dialog saying what to do next instead of a PIN dialog.
 */
int
cnied_verify_pin(cnied_card_ctx *w, cnied_job *job, cnie_card *c, const char *reader)
{
	const cnie_transport_caps *caps = cnie_transport_get_caps(cnie_card_transport(c));
	char pin[CNIED_SECRET_MAX], asks[512], desc[1024], tries_txt[256], err_txt[256];
	char card[CNIED_CARD_ID_MAX];
	cnie_pinentry_text t = {_("CNIE card PIN"), desc, _("PIN:"), _("Continue"), _("Cancel"),
	    NULL};
	const char *serial = NULL;
	bool blocked = false;
	int r, tries, asked;

	/* The card's TokenInfo serial; a card without one is told apart by its reader only. */
	if (cnie_card_serial(c, &serial) != 0 || serial == NULL)
		serial = "";
	snprintf(card, sizeof(card), "%s", serial);
	tries = cnied_tries_get(&w->tries, reader, card);
	/* A blocked PIN: no dialog for a PIN the card would refuse anyway
	 * (an empty VERIFY spends no try; a card that cannot tell goes on). */
	if (cnie_card_pin_status(c, NULL, &blocked, NULL) == 0 && blocked) {
		r = CNIE_ERR_PIN_BLOCKED;
		goto done;
	}
	if (caps->pinpad_verify) {
		r = cnie_card_pin_verify_pinpad(c, &job->tries_left);
		if (r == CNIE_ERR_PIN_INCORRECT)
			tries = job->tries_left;
		if (r != CNIE_ERR_UNSUPPORTED)
			goto done;
	}
	/* Kiosk mode: the PIN on a PIN pad only, never a dialog (kiosk.c). */
	if ((r = cnied_kiosk_pin_dialog(w->cfg)) != 0)
		goto done;
	cnied_op_asks(asks, sizeof(asks), job);
	tries_txt[0] = '\0';
	if (tries >= 0)
		snprintf(tries_txt, sizeof(tries_txt), ngettext("%d try left before the PIN is "
		    "blocked.", "%d tries left before the PIN is blocked.", (unsigned long)tries),
		    tries);
	snprintf(desc, sizeof(desc), "%s\n%s%s%s", asks, _("Enter your PIN."),
	    tries_txt[0] != '\0' ? "\n" : "", tries_txt);
	r = CNIE_ERR_PIN_INCORRECT;
	for (asked = 0; asked < CNIED_PIN_ASKS_MAX; asked++) {
		if ((r = cnied_pinentry_getpin(w->cfg, &t, pin, sizeof(pin))) != 0)
			goto done; /* cancel, timeout, abort: the request ends */
		r = cnie_card_pin_verify(c, pin, &job->tries_left);
		OPENSSL_cleanse(pin, sizeof(pin));
		if (r == CNIE_ERR_PIN_INCORRECT)
			tries = job->tries_left;
		else if (r != CNIE_ERR_PIN_FORMAT) /* CNIE_ERR_PIN_FORMAT: no try spent */
			break;
		/* The card did not take it: the holder may try again. */
		retry_text(err_txt, sizeof(err_txt), r, tries);
		t.error = err_txt;
		snprintf(desc, sizeof(desc), "%s\n%s", asks, _("Enter your PIN."));
	}
	if (r == CNIE_ERR_PIN_FORMAT)
		r = CNIE_ERR_PIN_INCORRECT;
done:
	if (r == CNIE_ERR_PIN_BLOCKED || r == CNIE_ERR_SW_AUTH_BLOCKED) {
		tries = 0;
		pin_blocked_advice(w, job);
	}
	/* What the card last said, also after a cancel (-1: unknown). */
	job->tries_left = tries;
	/* Remember it; forget it once the PIN was right or is blocked. */
	cnied_tries_set(&w->tries, reader, card, r == 0 || tries == 0 ? -1 : tries);
	return r;
}

json_t *
cnied_jb64(const uint8_t *p, size_t n)
{
	char *s = cnie_base64_encode(p, n);
	json_t *j = s != NULL ? json_string(s) : NULL;

	free(s);
	return j;
}

/* One card operation on an open card. */
static int
op_on_card(cnied_card_ctx *w, cnied_job *job, cnie_card *c, const char *reader)
{
	switch (job->op) {
	case CNIED_OP_CERT:
		return cnied_op_certificate(w, job, c);
	case CNIED_OP_AUTH:
		return cnied_op_authenticate(w, job, c, reader);
	case CNIED_OP_SIGN:
		return cnied_op_sign(w, job, c, reader);
	default:
		return CNIE_ERR_INTERNAL;
	}
}

void
cnied_op_run(cnied_card_ctx *w, cnied_job *job)
{
	cnie_card *c = NULL;
	const char *want = "";
	char reader[CNIED_READER_MAX], can[CNIED_SECRET_MAX] = "";
	int r;

	job->tries_left = -1;
	if (job->op == CNIED_OP_IDENTITY) {
		r = cnied_op_identity(w, job);
		goto out;
	}
	want = job->op == CNIED_OP_CERT ? job->u.cert.reader : job->op == CNIED_OP_AUTH ?
	    job->u.auth.reader : job->u.sign.reader;
	if ((r = cnied_card_open(w, job, want, &c, reader, sizeof(reader), can)) != 0)
		goto out;
	r = op_on_card(w, job, c, reader);
	if (r == CNIE_ERR_CARD_RESET && can[0] != '\0') {
		/* Contactless: the reset ended the PACE session.  The CAN this
		 * request got is still in hand: PACE again and the operation
		 * once more (its PIN, if any, asked again: never re-sent).  No
		 * CAN in hand (never kept past a request): card-reset. */
		int rr = cnie_card_resume(c, can);
		if (rr == 0)
			r = op_on_card(w, job, c, reader);
		else if (rr == CNIE_ERR_NO_CARD || rr == CNIE_ERR_CARD_REMOVED)
			r = rr;
	}
	OPENSSL_cleanse(can, sizeof(can));
	/* The reference card keeps its session: a card reset by another
	 * program (CNIE_ERR_LOGIN_LOST) is simply the next job's fresh start. */
	cnied_card_release(w, &c, r);
out:
	OPENSSL_cleanse(can, sizeof(can));
	if (r != 0) {
		json_decref(job->answer);
		job->answer = NULL;
	}
	job->err = r;
}
