/*
 * cnie-pkcs11.so: Cryptoki 2.40 (and the 3.0 interface discovery) over
 * libcnie.  Entry points, slots, tokens, sessions and login.
 *
 * Decisions (see also p11_int.h for locking):
 * - C_Initialize sends nothing to pcscd or the card; the reader list is
 *   read on the first C_GetSlotList, a card is opened (SELECT) the first
 *   time a slot's token is asked for.
 * - One slot per PC/SC reader; slot IDs are table indexes and stay stable
 *   for the module's life (a reader that goes away keeps its ID and comes
 *   back on it).  The table is refreshed on C_GetSlotList(NULL list).
 * - A card on a contactless reader is a token at once, with nothing sent
 *   (README "Contactless"): its fixed label, no serial, both key types'
 *   mechanisms, no objects.  PACE runs when an application logs in (or
 *   changes the PIN): the CAN comes from a pinentry dialog naming the
 *   application (p11_pace.c), the PIN still from C_Login, its VERIFY
 *   inside secure messaging.  The CAN PACE accepted is kept, locked in
 *   memory, until the card leaves the reader: PACE is run again with it,
 *   once per call, when another program ended our session.
 * - A token is one card from insertion to removal (pcsc-lite's event
 *   counter): a re-inserted card is a new token, old sessions and object
 *   handles are invalid.
 * - Logout is this application's (pkcs11/README.md "Login"): C_Logout and
 *   closing the last session end our login (private objects hidden,
 *   signing refused) but leave the card's PIN status alone, since other
 *   programs on the same card may rely on it; the card forgets it when
 *   removed or reset.  CNIE_PKCS11_LOGOUT=card (read by C_Initialize)
 *   also resets it on the card (VERIFY P1=FF), for single-application
 *   machines.
 * - The token label is the card's label (TokenInfo, "CNIE") and its
 *   serial: distinct per card (NSS names certificates "TOKEN:LABEL"), the
 *   same each time the card is inserted.  A contactless token's label is
 *   fixed ("CNIE contactless"): its serial is readable only after PACE,
 *   and NSS keeps the label it read at insertion.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cnie/log.h>

#include "p11_int.h"
#include "p11_v3.h"

#define P11_EXPORT __attribute__((visibility("default")))
#define PIN_MAX_TRIES 3 /* card-profile.md 4: the counter starts at 3 */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv; /* waiters leaving, finalize starting */
	bool init;
	pid_t pid;
	bool enumerated;
	p11_slot *slots[P11_MAX_SLOTS];
	size_t nslots;
	cnie_pcsc *pcsc;      /* reader list and states, under lock */
	cnie_pcsc *wait_pcsc; /* C_WaitForSlotEvent only */
	bool wait_primed;
	int waiters;
	bool finalizing;
	/*
	 * Wait contexts that pcscd's restart invalidated: other waiters may
	 * still be inside a call on them, so they are released by C_Finalize
	 * once every waiter has left.  Bounded: past the last one, a waiter
	 * keeps polling the old context once a second.
	 */
	cnie_pcsc *dead_wait[8];
	size_t ndead_wait;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/*
 * What a parent's module held when the process forked: its PC/SC handles
 * belong to the parent's connections and must not be released from the
 * child, so they are kept (reachable) and never touched again.
 */
static p11_slot *orphans[4 * P11_MAX_SLOTS];
static cnie_pcsc *orphan_ctx[8];
static size_t norphans, norphan_ctx;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* CNIE_PKCS11_LOGOUT=card: logout resets the card's PIN status (set by C_Initialize). */
static atomic_bool card_logout;

/*
 * pcsc-lite 1.9.9's client keeps the reader states in one process-wide
 * array that SCardGetStatusChange and SCardListReaders refill under the
 * calling context's lock only: calls on two contexts race (ThreadSanitizer
 * shows it).  The module's own state and list queries go one at a time.
 * A leaf lock, held only around those calls.
 */
static pthread_mutex_t pcsc_state_lock = PTHREAD_MUTEX_INITIALIZER;

static int
reader_state(cnie_pcsc *ctx, const char *reader, cnie_reader_state *st)
{
	int r;

	pthread_mutex_lock(&pcsc_state_lock);
	r = cnie_pcsc_reader_state(ctx, reader, st);
	pthread_mutex_unlock(&pcsc_state_lock);
	return r;
}

static int
list_readers(cnie_pcsc *ctx, char ***names, size_t *n)
{
	int r;

	pthread_mutex_lock(&pcsc_state_lock);
	r = cnie_pcsc_list_readers(ctx, names, n);
	pthread_mutex_unlock(&pcsc_state_lock);
	return r;
}

static void
atfork_prepare(void)
{
	pthread_mutex_lock(&g.lock);
}

static void
atfork_parent(void)
{
	pthread_mutex_unlock(&g.lock);
}

static void
atfork_child(void)
{
	/* Only this thread survives: fresh primitives, no other holder. */
	pthread_mutex_init(&g.lock, NULL);
	pthread_cond_init(&g.cv, NULL);
	pthread_mutex_init(&pcsc_state_lock, NULL);
}

static void
atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Called with g.lock held. */
static bool
initialized(void)
{
	return g.init && g.pid == getpid();
}

static void
pad(CK_UTF8CHAR *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	/* Cut at a UTF-8 character boundary. */
	if (l > n) {
		l = n;
		while (l > 0 && ((unsigned char)src[l] & 0xC0) == 0x80)
			l--;
	}
	memcpy(dst, src, l);
}

/* ---- slots and tokens -------------------------------------------------- */

static void
session_free(p11_session *s)
{
	if (s == NULL)
		return;
	p11_sign_clear(&s->sign);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* The session's signing operation is over (done, failed or abandoned). */
static void
sign_end(p11_session *s)
{
	p11_sign_clear(&s->sign);
	s->signing = false;
}

/* Closes every session of the slot.  Slot lock held. */
static void
slot_close_sessions(p11_slot *sl)
{
	size_t i;

	for (i = 0; i < sl->nsess; i++) {
		session_free(sl->sess[i]);
		sl->sess[i] = NULL;
	}
	sl->nsess = 0;
	sl->tok.logged_in = false;
}

/* The card went away (or the slot closes): the token and its sessions end. */
static void
slot_drop_token(p11_slot *sl)
{
	slot_close_sessions(sl);
	if (sl->have_token) {
		p11_objects_free(&sl->tok);
		cnie_card_free(&sl->tok.card);
		cnie_transport_free(&sl->tok.link);
	}
	p11_can_wipe(&sl->tok.can);
	memset(&sl->tok, 0, sizeof(sl->tok));
	sl->have_token = false;
}

/*
 * The PC/SC context itself is gone: pcscd stopped or restarted (its
 * handles are not valid in the new daemon).  The context must be
 * established again; what was open on it (the token) ended.
 */
static bool
is_context_lost(int r)
{
	return r == CNIE_ERR_NO_SERVICE || r == CNIE_ERR_STATE;
}

static bool
is_removal(int r)
{
	return r == CNIE_ERR_CARD_REMOVED || r == CNIE_ERR_NO_CARD ||
	    r == CNIE_ERR_READER_NOT_FOUND || r == CNIE_ERR_NO_READER || is_context_lost(r);
}

/*
 * After a card operation: a removed card ends the token (the caller's
 * session is freed: do not touch it after), a reset drops the login.
 * Returns the CKR for r.  Slot lock held.
 */
static CK_RV
slot_card_error(p11_slot *sl, int r)
{
	if (is_removal(r)) {
		slot_drop_token(sl);
		/* The next refresh establishes a context with the new pcscd. */
		if (is_context_lost(r))
			cnie_pcsc_free(&sl->pcsc);
		return CKR_DEVICE_REMOVED;
	}
	if (r == CNIE_ERR_LOGIN_LOST || r == CNIE_ERR_CARD_RESET) {
		sl->tok.logged_in = false;
		sl->tok.pin_known = false;
	}
	/* 6982: the card has no verified PIN (another program logged out). */
	if (r == CNIE_ERR_SW_SECURITY_STATUS)
		sl->tok.logged_in = false;
	return p11_ckr(r);
}

/* Keys of an open card (PrKDF).  Slot lock held. */
static int
token_keys(p11_token *t)
{
	size_t i, n;
	int r;

	if ((r = cnie_card_key_count(t->card, &n)) != 0)
		return r;
	if (n > P11_MAX_KEYS)
		n = P11_MAX_KEYS;
	for (i = 0; i < n; i++) {
		if ((r = cnie_card_get_key(t->card, i, &t->keys[i])) != 0)
			return r;
	}
	t->nkeys = n;
	return 0;
}

/*
 * A card on a contactless reader: shown as a token with nothing sent
 * (PACE needs the CAN, asked only when an application logs in).  Its
 * token information never changes while it stays (README "Contactless":
 * NSS reads it once, at insertion).  t->link is the connection PACE
 * will use.
 */
static void
token_contactless(p11_slot *sl, cnie_transport *link)
{
	p11_token *t = &sl->tok;
	const cnie_transport_caps *caps = cnie_transport_get_caps(link);

	t->contactless = true;
	t->link = link;
	/*
	 * A reader that runs PACE itself asks the CAN on its keypad and
	 * wraps our commands in its session: its PIN pad works too
	 * (CKF_PROTECTED_AUTHENTICATION_PATH), so neither CAN nor PIN
	 * reaches the computer.  Any other PIN pad's VERIFY would be plain,
	 * outside our PACE session: not offered.
	 */
	t->reader_pace = caps != NULL && caps->reader_pace;
	sl->pinpad = t->reader_pace && caps->pinpad_verify;
	snprintf(t->label, sizeof(t->label), "CNIE contactless");
	t->serial[0] = '\0';
	t->tries_left = -1;
	t->gen = ++sl->next_gen;
}

static int
token_open(p11_slot *sl)
{
	p11_token *t = &sl->tok;
	const cnie_transport_caps *caps;
	cnie_transport *link = NULL;
	const char *s;
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = cnie_pcsc_connect(sl->pcsc, sl->reader, &link)) != 0)
		return r;
	caps = cnie_transport_get_caps(link);
	if (caps != NULL && caps->contactless) {
		token_contactless(sl, link);
		return 0;
	}
	/* The transport is the card's from here, also on failure. */
	if ((r = cnie_card_open(link, &t->card)) != 0)
		return r;
	caps = cnie_transport_get_caps(cnie_card_transport(t->card));
	sl->pinpad = caps != NULL && caps->pinpad_verify;
	if ((r = cnie_card_serial(t->card, &s)) != 0)
		goto out;
	snprintf(t->serial, sizeof(t->serial), "%s", s);
	if ((r = cnie_card_label(t->card, &s)) != 0)
		goto out;
	/* "CNIE 0123456789ABCDEF": the card label cut so that the serial fits. */
	snprintf(t->label, sizeof(t->label), "%.*s %s",
	    (int)(sizeof(t->label) - 2 - strlen(t->serial)), s[0] != '\0' ? s : "CNIE",
	    t->serial);
	if ((r = token_keys(t)) != 0)
		goto out;
	t->tries_left = -1;
	t->gen = ++sl->next_gen;
out:
	if (r != 0)
		cnie_card_free(&t->card);
	return r;
}

/*
 * PACE for a contactless card that waits for it (C_Login, C_SetPIN): the
 * CAN from the holder through the pinentry, one PACE per answer.  A CAN
 * the card refused is not kept and never sent again by the module: the
 * next call that needs the card asks again, the dialog saying the last one
 * was refused.  Then the card is open as a contact card is (keys read)
 * and the CAN is kept until the card leaves (token_resume).  Slot lock
 * held; a removed card ends the token (sessions freed).
 */
static CK_RV
token_pace(p11_slot *sl)
{
	p11_token *t = &sl->tok;
	char can[16];
	int r;

	if (t->card != NULL)
		return CKR_OK;
	if (t->link == NULL && (r = cnie_pcsc_connect(sl->pcsc, sl->reader, &t->link)) != 0)
		return slot_card_error(sl, r);
	if (t->reader_pace) {
		/* The holder types the CAN on the reader's keypad (card.h). */
		r = cnie_card_open_ex(t->link, NULL, &t->card);
		t->link = NULL;
		if (r == 0)
			r = token_keys(t);
		if (r == 0) {
			t->tries_left = -1;
			t->pin_known = false;
			return CKR_OK;
		}
		cnie_card_free(&t->card);
		goto failed;
	}
	r = p11_can_ask(sl->reader, t->can_note, can, sizeof(can));
	if (r != 0) {
		OPENSSL_cleanse(can, sizeof(can));
		if (r == CNIE_ERR_INVALID_ARG) {
			t->can_note = P11_CAN_NOTE_FORMAT;
			return CKR_FUNCTION_FAILED;
		}
		/* The holder cancelled or let the dialog time out: nothing sent. */
		if (r == CNIE_ERR_CANCELLED || r == CNIE_ERR_TIMEOUT)
			return CKR_FUNCTION_CANCELED;
		return CKR_FUNCTION_FAILED; /* the pinentry failed: logged */
	}
	/* The connection is the card's from here (freed with it on failure). */
	r = cnie_card_open_ex(t->link, can, &t->card);
	t->link = NULL;
	if (r == 0)
		r = p11_can_keep(&t->can, can);
	OPENSSL_cleanse(can, sizeof(can));
	if (r == 0)
		r = token_keys(t);
	if (r == 0) {
		t->can_note = P11_CAN_NOTE_NONE;
		t->tries_left = -1;
		t->pin_known = false;
		return CKR_OK;
	}
	cnie_card_free(&t->card);
	p11_can_wipe(&t->can);
failed:
	if (r == CNIE_ERR_PACE) {
		/*
		 * Not CKR_PIN_INCORRECT: the PIN was not even sent, and an
		 * application told that would ask the holder for the PIN again.
		 */
		t->can_note = P11_CAN_NOTE_REFUSED;
		cnie_log_warn("card on \"%s\": PACE failed, the card access number (CAN) was "
		    "refused; the next operation asks again", sl->reader);
		return CKR_FUNCTION_FAILED;
	}
	if (r == CNIE_ERR_CARD_NOT_RECOGNISED) {
		/* PACE worked but there is no CNIE PKI application (a passport?). */
		slot_drop_token(sl);
		sl->unrecognised = true;
		sl->bad_events = sl->events;
		return CKR_TOKEN_NOT_RECOGNIZED;
	}
	return slot_card_error(sl, r);
}

/*
 * After CNIE_ERR_CARD_RESET from an open contactless card: another
 * program's plain command or its own PACE ended our secure messaging
 * session, or the card was reset (docs/card-profile.md 9).  PACE runs
 * again with the kept CAN (MSE:SET AT and four GENERAL AUTHENTICATE; a
 * reconnect and a SELECT after a reset).  The call then sends its command
 * once more: the card refused the first at the secure messaging layer,
 * before executing it (so a VERIFY was not compared).  Whether the PIN
 * status survived is the card's: a card that dropped it answers 6982 and
 * the call gets CKR_USER_NOT_LOGGED_IN.  Slot lock held; arg is the slot.
 * Returns 0, or the error the call reports.
 */
static int
token_resume(void *arg)
{
	p11_slot *sl = arg;
	p11_token *t = &sl->tok;
	int r;

	if (!t->contactless || t->card == NULL ||
	    (p11_can_value(t->can) == NULL && !t->reader_pace))
		return CNIE_ERR_CARD_RESET;
	/* A PACE reader asks for the CAN on its keypad again (nothing kept here). */
	r = cnie_card_resume(t->card, t->reader_pace ? NULL : p11_can_value(t->can));
	if (r != 0) {
		cnie_log_warn("card on \"%s\": secure messaging could not be re-established: %s",
		    sl->reader, cnie_strerror(r));
		return r;
	}
	t->pin_known = false;
	cnie_log_info("card on \"%s\": another program ended the secure messaging session; "
	    "%s", sl->reader, t->reader_pace ? "the reader ran PACE again (CAN on its keypad)" :
	    "PACE run again with the kept card access number");
	return 0;
}

/*
 * *r from a card call: true when the contactless session was lost and is
 * back, and the call is to be made once more.  When it cannot come back,
 * *r becomes the reason (a removal, say).
 */
static bool
resumed(p11_slot *sl, int *r)
{
	int r2;

	if (*r != CNIE_ERR_CARD_RESET || !sl->tok.contactless)
		return false;
	if ((r2 = token_resume(sl)) != 0) {
		if (r2 != CNIE_ERR_CARD_RESET)
			*r = r2;
		return false;
	}
	return true;
}

/*
 * Brings the slot's token in line with the reader: ends it when the card
 * went away or was replaced, opens a newly inserted card.  Slot lock held.
 * Returns 0 or a cnie error for the reader itself.
 */
static int
slot_refresh(p11_slot *sl)
{
	cnie_reader_state st;
	int r;

	if (sl->pcsc == NULL && (r = cnie_pcsc_new(&sl->pcsc)) != 0) {
		slot_drop_token(sl);
		return r;
	}
	if ((r = reader_state(sl->pcsc, sl->reader, &st)) != 0) {
		slot_drop_token(sl);
		/* pcscd went away: a new context next time (it may be back). */
		if (is_context_lost(r))
			cnie_pcsc_free(&sl->pcsc);
		return r;
	}
	if (!st.card_present) {
		slot_drop_token(sl);
		sl->unrecognised = false;
		return 0;
	}
	if (sl->have_token) {
		if (st.event_count == sl->events)
			return 0;
		slot_drop_token(sl); /* removed and inserted again */
	}
	if (sl->unrecognised && st.event_count == sl->bad_events)
		return 0;
	sl->unrecognised = false;
	r = token_open(sl);
	if (r == 0) {
		sl->have_token = true;
		sl->events = st.event_count;
		return 0;
	}
	if (r == CNIE_ERR_CARD_NOT_RECOGNISED) {
		sl->unrecognised = true;
		sl->bad_events = st.event_count;
	}
	/* Other errors (mute card, busy reader): no token, tried again next time. */
	return 0;
}

/* Slot by ID (NULL when invalid).  g.lock held. */
static p11_slot *
slot_get(CK_SLOT_ID id)
{
	if (id >= g.nslots)
		return NULL;
	return g.slots[id];
}

static int
slot_new(const char *reader, p11_slot **out)
{
	p11_slot *sl;

	if ((sl = calloc(1, sizeof(*sl))) == NULL)
		return CNIE_ERR_NOMEM;
	if ((sl->reader = strdup(reader)) == NULL) {
		free(sl);
		return CNIE_ERR_NOMEM;
	}
	pthread_mutex_init(&sl->lock, NULL);
	*out = sl;
	return 0;
}

static void
slot_free(p11_slot *sl)
{
	if (sl == NULL)
		return;
	slot_drop_token(sl);
	cnie_pcsc_free(&sl->pcsc);
	pthread_mutex_destroy(&sl->lock);
	free(sl->reader);
	free(sl);
}

/*
 * Reads the reader list into the slot table (new readers get new IDs).
 * New readers after the first enumeration are slot events.  g.lock held.
 */
static CK_RV
slots_update(void)
{
	char **names = NULL;
	size_t n = 0, i, j;
	cnie_reader_state st;
	p11_slot *sl;
	int r;

	if (g.pcsc != NULL) {
		r = list_readers(g.pcsc, &names, &n);
		/* pcscd restarted since: the context is dead, establish another. */
		if (is_context_lost(r))
			cnie_pcsc_free(&g.pcsc);
	}
	if (g.pcsc == NULL) {
		if ((r = cnie_pcsc_new(&g.pcsc)) == 0)
			r = list_readers(g.pcsc, &names, &n);
	}
	/* No pcscd (yet): no reader; the slots keep their IDs for its return. */
	if (r == CNIE_ERR_NO_READER || is_context_lost(r)) {
		n = 0;
		r = 0;
	}
	if (r != 0)
		return p11_ckr(r);
	for (j = 0; j < g.nslots; j++)
		g.slots[j]->gone = true;
	for (i = 0; i < n; i++) {
		for (j = 0; j < g.nslots; j++) {
			if (strcmp(g.slots[j]->reader, names[i]) == 0) {
				g.slots[j]->gone = false;
				break;
			}
		}
		if (j < g.nslots || g.nslots >= P11_MAX_SLOTS)
			continue;
		if ((r = slot_new(names[i], &sl)) != 0)
			break;
		sl->index = g.nslots;
		if (reader_state(g.pcsc, names[i], &st) == 0) {
			sl->wait_present = st.card_present;
			sl->wait_events = st.event_count;
		}
		sl->wait_pending = g.enumerated;
		g.slots[g.nslots++] = sl;
	}
	g.enumerated = true;
	cnie_pcsc_free_names(&names);
	return p11_ckr(r);
}

/*
 * Looks up a session and locks its slot.  On CKR_OK *slp is locked and
 * *sp is the session; the caller unlocks.
 */
static CK_RV
session_lock(CK_SESSION_HANDLE h, p11_slot **slp, p11_session **sp)
{
	p11_slot *sl;
	size_t i, idx = (size_t)(h >> 24);

	pthread_mutex_lock(&g.lock);
	if (!initialized()) {
		pthread_mutex_unlock(&g.lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	sl = idx >= 1 ? slot_get(idx - 1) : NULL;
	pthread_mutex_unlock(&g.lock);
	if (sl == NULL)
		return CKR_SESSION_HANDLE_INVALID;
	pthread_mutex_lock(&sl->lock);
	for (i = 0; i < sl->nsess; i++) {
		if (sl->sess[i]->handle == h) {
			*slp = sl;
			*sp = sl->sess[i];
			return CKR_OK;
		}
	}
	pthread_mutex_unlock(&sl->lock);
	return CKR_SESSION_HANDLE_INVALID;
}

/*
 * Checks that the session's card is still the one it was opened on (a
 * pcscd round trip, no APDU).  When not, the token ends: CKR_DEVICE_REMOVED
 * and the session is gone.  Slot lock held.
 */
static CK_RV
session_check_card(p11_slot *sl, p11_session *s)
{
	uint32_t gen = s->gen;

	slot_refresh(sl);
	if (!sl->have_token || sl->tok.gen != gen) {
		slot_drop_token(sl);
		return CKR_DEVICE_REMOVED;
	}
	return CKR_OK;
}

/* ---- general purpose --------------------------------------------------- */

P11_EXPORT CK_RV
C_Initialize(CK_VOID_PTR pInitArgs)
{
	CK_C_INITIALIZE_ARGS *a = pInitArgs;
	size_t i;
	CK_RV rv = CKR_OK;

	if (a != NULL) {
		int set = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) +
		    (a->LockMutex != NULL) + (a->UnlockMutex != NULL);

		if (a->pReserved != NULL || (set != 0 && set != 4))
			return CKR_ARGUMENTS_BAD;
		/*
		 * Callbacks without CKF_OS_LOCKING_OK: PKCS#11 2.40 5.4 lets the
		 * library use the OS primitives when it can; pthreads it is.
		 */
	}
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&g.lock);
	if (g.init && g.pid == getpid()) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	if (g.init) {
		/* Forked child: the parent's handles are left alone. */
		for (i = 0; i < g.nslots; i++) {
			/* The parent's card access numbers are not the child's. */
			p11_can_forget_in_child(g.slots[i]->tok.can);
			if (norphans < sizeof(orphans) / sizeof(orphans[0]))
				orphans[norphans++] = g.slots[i];
		}
		if (g.pcsc != NULL && norphan_ctx < 8)
			orphan_ctx[norphan_ctx++] = g.pcsc;
		if (g.wait_pcsc != NULL && norphan_ctx < 8)
			orphan_ctx[norphan_ctx++] = g.wait_pcsc;
	}
	memset(g.slots, 0, sizeof(g.slots));
	g.nslots = 0;
	g.pcsc = NULL;
	g.wait_pcsc = NULL;
	g.wait_primed = false;
	g.ndead_wait = 0; /* a forked child: the parent's stay the parent's */
	g.enumerated = false;
	g.waiters = 0;
	g.finalizing = false;
	{
		const char *lo = getenv("CNIE_PKCS11_LOGOUT");

		atomic_store(&card_logout, lo != NULL && strcmp(lo, "card") == 0);
	}
	g.pid = getpid();
	g.init = true;
out:
	pthread_mutex_unlock(&g.lock);
	return rv;
}

P11_EXPORT CK_RV
C_Finalize(CK_VOID_PTR pReserved)
{
	size_t i;

	if (pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&g.lock);
	if (!initialized()) {
		pthread_mutex_unlock(&g.lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	/* Wake C_WaitForSlotEvent callers and wait until they have left. */
	g.finalizing = true;
	while (g.waiters > 0) {
		if (g.wait_pcsc != NULL)
			cnie_pcsc_cancel(g.wait_pcsc);
		for (i = 0; i < g.ndead_wait; i++)
			cnie_pcsc_cancel(g.dead_wait[i]);
		pthread_cond_broadcast(&g.cv);
		pthread_cond_wait(&g.cv, &g.lock);
	}
	for (i = 0; i < g.ndead_wait; i++)
		cnie_pcsc_free(&g.dead_wait[i]);
	g.ndead_wait = 0;
	for (i = 0; i < g.nslots; i++) {
		slot_free(g.slots[i]);
		g.slots[i] = NULL;
	}
	g.nslots = 0;
	cnie_pcsc_free(&g.pcsc);
	cnie_pcsc_free(&g.wait_pcsc);
	g.init = false;
	g.finalizing = false;
	pthread_mutex_unlock(&g.lock);
	return CKR_OK;
}

P11_EXPORT CK_RV
C_GetInfo(CK_INFO_PTR pInfo)
{
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&g.lock);
	if (!initialized())
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;
	pthread_mutex_unlock(&g.lock);
	if (rv != CKR_OK)
		return rv;
	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->cryptokiVersion.major = 2;
	pInfo->cryptokiVersion.minor = 40;
	pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "CNIE project");
	pad(pInfo->libraryDescription, sizeof(pInfo->libraryDescription),
	    "CNIE PKCS#11 module");
	pInfo->libraryVersion.major = 0;
	pInfo->libraryVersion.minor = 1;
	return CKR_OK;
}

/* ---- slots ------------------------------------------------------------- */

P11_EXPORT CK_RV
C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	p11_slot *snap[P11_MAX_SLOTS];
	bool present[P11_MAX_SLOTS], gone[P11_MAX_SLOTS];
	size_t n, i;
	CK_ULONG k = 0;
	CK_RV rv = CKR_OK;

	if (pulCount == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&g.lock);
	if (!initialized()) {
		pthread_mutex_unlock(&g.lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	/* The list changes only on a size query (PKCS#11 3.0 5.5). */
	if (pSlotList == NULL || !g.enumerated)
		rv = slots_update();
	n = g.nslots;
	memcpy(snap, g.slots, n * sizeof(snap[0]));
	for (i = 0; i < n; i++)
		gone[i] = snap[i]->gone; /* guarded by g.lock */
	pthread_mutex_unlock(&g.lock);
	if (rv != CKR_OK)
		return rv;
	/* Token presence outside the global lock: opening a card takes APDUs. */
	for (i = 0; i < n; i++) {
		present[i] = false;
		if (gone[i])
			continue;
		if (tokenPresent) {
			pthread_mutex_lock(&snap[i]->lock);
			slot_refresh(snap[i]);
			present[i] = snap[i]->have_token;
			pthread_mutex_unlock(&snap[i]->lock);
		} else {
			present[i] = true;
		}
	}
	for (i = 0; i < n; i++)
		k += present[i] ? 1 : 0;
	if (pSlotList == NULL) {
		*pulCount = k;
		return CKR_OK;
	}
	if (*pulCount < k) {
		*pulCount = k;
		return CKR_BUFFER_TOO_SMALL;
	}
	k = 0;
	for (i = 0; i < n; i++)
		if (present[i])
			pSlotList[k++] = i;
	*pulCount = k;
	return CKR_OK;
}

/* Locks and returns the slot (refreshed); NULL with *rv set otherwise. */
static p11_slot *
slot_lock(CK_SLOT_ID id, CK_RV *rv)
{
	p11_slot *sl;

	pthread_mutex_lock(&g.lock);
	if (!initialized()) {
		pthread_mutex_unlock(&g.lock);
		*rv = CKR_CRYPTOKI_NOT_INITIALIZED;
		return NULL;
	}
	/* A caller that knows its slot ID without asking for the list. */
	if (!g.enumerated)
		slots_update();
	sl = slot_get(id);
	pthread_mutex_unlock(&g.lock);
	if (sl == NULL) {
		*rv = CKR_SLOT_ID_INVALID;
		return NULL;
	}
	pthread_mutex_lock(&sl->lock);
	slot_refresh(sl);
	*rv = CKR_OK;
	return sl;
}

/* The slot's token, or the reason there is none.  Slot lock held. */
static CK_RV
slot_token_rv(const p11_slot *sl)
{
	if (sl->have_token)
		return CKR_OK;
	return sl->unrecognised ? CKR_TOKEN_NOT_RECOGNIZED : CKR_TOKEN_NOT_PRESENT;
}

P11_EXPORT CK_RV
C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	char desc[128];
	p11_slot *sl;
	CK_RV rv;

	if ((sl = slot_lock(slotID, &rv)) == NULL)
		return rv;
	if (pInfo == NULL) {
		pthread_mutex_unlock(&sl->lock);
		return CKR_ARGUMENTS_BAD;
	}
	memset(pInfo, 0, sizeof(*pInfo));
	snprintf(desc, sizeof(desc), "%s", sl->reader);
	pad(pInfo->slotDescription, sizeof(pInfo->slotDescription), desc);
	pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "PC/SC");
	pInfo->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
	if (sl->have_token)
		pInfo->flags |= CKF_TOKEN_PRESENT;
	pthread_mutex_unlock(&sl->lock);
	return CKR_OK;
}

/* PIN counter from the card when not known.  Slot lock held. */
static CK_RV
token_pin_status(p11_slot *sl)
{
	p11_token *t = &sl->tok;
	bool blocked = false, verified = false;
	int tries = -1, r;

	/*
	 * Contactless: only what our own VERIFYs taught.  An empty VERIFY
	 * would need PACE, and every PACE ends another program's session:
	 * two programs merely polling C_GetTokenInfo would take turns
	 * re-running it.
	 */
	if (t->pin_known || t->contactless)
		return CKR_OK;
	r = cnie_card_pin_status(t->card, &tries, &blocked, &verified);
	if (r == CNIE_ERR_LOGIN_LOST) {
		/* Reset by another program: the login is gone, ask again. */
		t->logged_in = false;
		r = cnie_card_pin_status(t->card, &tries, &blocked, &verified);
	}
	if (r != 0)
		return slot_card_error(sl, r);
	t->pin_known = true;
	t->tries_left = tries;
	t->pin_blocked = blocked;
	return CKR_OK;
}

P11_EXPORT CK_RV
C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	p11_slot *sl;
	p11_token *t;
	CK_RV rv;
	char model[17];

	if ((sl = slot_lock(slotID, &rv)) == NULL)
		return rv;
	if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if ((rv = slot_token_rv(sl)) != CKR_OK)
		goto out;
	if ((rv = token_pin_status(sl)) != CKR_OK)
		goto out;
	t = &sl->tok;
	memset(pInfo, 0, sizeof(*pInfo));
	pad(pInfo->label, sizeof(pInfo->label), t->label);
	pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "CNIE");
	/* Contactless: the same before and after PACE (README "Contactless"). */
	snprintf(model, sizeof(model), "CNIE %s", t->contactless ? "contactless" :
	    t->nkeys > 0 && t->keys[0].type == CNIE_CARD_KEY_RSA ? "RSA" : "EC");
	pad(pInfo->model, sizeof(pInfo->model), model);
	pad(pInfo->serialNumber, sizeof(pInfo->serialNumber), t->serial);
	pInfo->flags = CKF_WRITE_PROTECTED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
	    CKF_TOKEN_INITIALIZED;
	if (sl->pinpad)
		pInfo->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
	if (t->pin_blocked || t->tries_left == 0)
		pInfo->flags |= CKF_USER_PIN_LOCKED;
	else if (t->tries_left == 1)
		pInfo->flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
	else if (t->tries_left > 0 && t->tries_left < PIN_MAX_TRIES)
		pInfo->flags |= CKF_USER_PIN_COUNT_LOW;
	pInfo->ulMaxSessionCount = P11_MAX_SESSIONS;
	pInfo->ulSessionCount = sl->nsess;
	pInfo->ulMaxRwSessionCount = P11_MAX_SESSIONS;
	{
		size_t i;
		CK_ULONG rw = 0;

		for (i = 0; i < sl->nsess; i++)
			rw += sl->sess[i]->rw ? 1 : 0;
		pInfo->ulRwSessionCount = rw;
	}
	/* card-profile.md 4: PINs of 4 to 12 digits. */
	pInfo->ulMinPinLen = 4;
	pInfo->ulMaxPinLen = 12;
	pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	pInfo->hardwareVersion.major = 1;
	pInfo->firmwareVersion.major = 1;
	memset(pInfo->utcTime, ' ', sizeof(pInfo->utcTime));
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

static void
token_key_types(const p11_token *t, bool *rsa, bool *ec)
{
	size_t i;

	/*
	 * Contactless: the keys are known only after PACE, and NSS reads the
	 * mechanism list once at insertion: both types, all the time.
	 */
	*rsa = *ec = t->contactless;
	if (t->contactless)
		return;
	for (i = 0; i < t->nkeys; i++) {
		if (t->keys[i].type == CNIE_CARD_KEY_RSA)
			*rsa = true;
		else
			*ec = true;
	}
}

P11_EXPORT CK_RV
C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
    CK_ULONG_PTR pulCount)
{
	p11_slot *sl;
	bool rsa, ec;
	CK_RV rv;

	if ((sl = slot_lock(slotID, &rv)) == NULL)
		return rv;
	if (pulCount == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if ((rv = slot_token_rv(sl)) == CKR_OK) {
		token_key_types(&sl->tok, &rsa, &ec);
		rv = p11_mech_list(rsa, ec, pMechanismList, pulCount);
	}
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	p11_slot *sl;
	bool rsa, ec;
	CK_RV rv;

	if ((sl = slot_lock(slotID, &rv)) == NULL)
		return rv;
	if (pInfo == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if ((rv = slot_token_rv(sl)) == CKR_OK) {
		token_key_types(&sl->tok, &rsa, &ec);
		rv = p11_mech_info(rsa, ec, type, pInfo);
	}
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel)
{
	p11_slot *sl;
	CK_RV rv;

	(void)pPin;
	(void)ulPinLen;
	(void)pLabel;
	if ((sl = slot_lock(slotID, &rv)) == NULL)
		return rv;
	pthread_mutex_unlock(&sl->lock);
	/* The card is personalised once, by its issuer. */
	return CKR_FUNCTION_NOT_SUPPORTED;
}

P11_EXPORT CK_RV
C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	cnie_reader_state st;
	struct timespec ts;
	cnie_pcsc *w;
	size_t i;
	CK_RV rv = CKR_OK;
	int r;

	if (pSlot == NULL || pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&g.lock);
	if (!initialized() || g.finalizing) {
		pthread_mutex_unlock(&g.lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	/* No pcscd yet (or not again): the loop below waits for it. */
	if (g.wait_pcsc == NULL && !(flags & CKF_DONT_BLOCK))
		(void)cnie_pcsc_new(&g.wait_pcsc);
	w = g.wait_pcsc;
	g.waiters++;
	/*
	 * The wait context remembers the states it last saw; taking that
	 * snapshot before the comparison below means no change falls between
	 * the comparison and the wait.
	 */
	if (w != NULL && !g.wait_primed) {
		g.wait_primed = true;
		pthread_mutex_unlock(&g.lock);
		cnie_pcsc_wait_change(w, 0);
		pthread_mutex_lock(&g.lock);
	}
	for (;;) {
		if (g.finalizing) {
			rv = CKR_CRYPTOKI_NOT_INITIALIZED;
			break;
		}
		slots_update();
		for (i = 0; i < g.nslots; i++) {
			p11_slot *sl = g.slots[i];
			bool present = false;
			uint32_t ev = sl->wait_events;

			if (g.pcsc != NULL && reader_state(g.pcsc, sl->reader, &st) == 0) {
				present = st.card_present;
				ev = st.event_count;
			}
			if (sl->wait_pending || present != sl->wait_present || ev != sl->wait_events) {
				sl->wait_pending = false;
				sl->wait_present = present;
				sl->wait_events = ev;
				*pSlot = i;
				break;
			}
		}
		if (i < g.nslots)
			break;
		if (flags & CKF_DONT_BLOCK) {
			rv = CKR_NO_EVENT;
			break;
		}
		/* After a pcscd restart: a context with the new daemon, primed first. */
		if (g.wait_pcsc == NULL && cnie_pcsc_new(&g.wait_pcsc) == 0)
			g.wait_primed = false;
		w = g.wait_pcsc;
		if (w != NULL && !g.wait_primed) {
			g.wait_primed = true;
			pthread_mutex_unlock(&g.lock);
			cnie_pcsc_wait_change(w, 0);
			pthread_mutex_lock(&g.lock);
			continue;
		}
		r = CNIE_ERR_NO_SERVICE;
		if (w != NULL) {
			pthread_mutex_unlock(&g.lock);
			r = cnie_pcsc_wait_change(w, -1);
			pthread_mutex_lock(&g.lock);
		}
		if (r == CNIE_ERR_CANCELLED || g.finalizing) {
			rv = CKR_CRYPTOKI_NOT_INITIALIZED;
			break;
		}
		/*
		 * pcscd went away: its handles stay invalid when it comes back.
		 * The context is retired (another waiter may still be in a call
		 * on it) and the next round establishes a new one.
		 */
		if (is_context_lost(r) && w != NULL && w == g.wait_pcsc &&
		    g.ndead_wait < sizeof(g.dead_wait) / sizeof(g.dead_wait[0])) {
			g.dead_wait[g.ndead_wait++] = w;
			g.wait_pcsc = NULL;
		}
		if (r != 0 && r != CNIE_ERR_TIMEOUT) {
			/* No reader or no service yet: look again in a second. */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&g.cv, &g.lock, &ts);
		}
	}
	g.waiters--;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.lock);
	return rv;
}

/* ---- sessions ---------------------------------------------------------- */

P11_EXPORT CK_RV
C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
    CK_SESSION_HANDLE_PTR phSession)
{
	p11_session *s;
	p11_slot *sl;
	CK_RV rv;

	(void)pApplication;
	(void)Notify; /* no callbacks: surrender is never asked */
	if ((sl = slot_lock(slotID, &rv)) == NULL)
		return rv;
	if (!(flags & CKF_SERIAL_SESSION)) {
		rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
		goto out;
	}
	if (phSession == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if ((rv = slot_token_rv(sl)) != CKR_OK)
		goto out;
	if (sl->nsess >= P11_MAX_SESSIONS) {
		rv = CKR_SESSION_COUNT;
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	/* Handle: slot index + 1 in the top byte, a per-slot counter below. */
	sl->seq = (sl->seq + 1) & 0xFFFFFF;
	if (sl->seq == 0)
		sl->seq = 1;
	s->handle = ((CK_SESSION_HANDLE)(sl->index + 1) << 24) | sl->seq;
	s->slot = sl->index;
	s->gen = sl->tok.gen;
	/* RW accepted on the write-protected token: OpenSSH opens RW sessions. */
	s->rw = (flags & CKF_RW_SESSION) != 0;
	s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
	sl->sess[sl->nsess++] = s;
	*phSession = s->handle;
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

/*
 * This application's login on the token ends.  The card's PIN status is
 * shared by every program using the card and stays (README "Login"),
 * unless CNIE_PKCS11_LOGOUT=card asked for VERIFY P1=FF.  Returns the
 * card's outcome then; a removed card ends the token (sessions freed).
 * Slot lock held.
 */
static CK_RV
token_logout(p11_slot *sl)
{
	int r;

	if (!sl->have_token || !sl->tok.logged_in)
		return CKR_OK;
	sl->tok.logged_in = false;
	if (!atomic_load(&card_logout))
		return CKR_OK;
	if ((r = cnie_card_logout(sl->tok.card)) != 0)
		return slot_card_error(sl, r);
	return CKR_OK;
}

/* Slot lock held. */
static void
session_remove(p11_slot *sl, p11_session *s)
{
	size_t i;

	for (i = 0; i < sl->nsess; i++) {
		if (sl->sess[i] == s) {
			sl->sess[i] = sl->sess[--sl->nsess];
			sl->sess[sl->nsess] = NULL;
			break;
		}
	}
	session_free(s);
	/* PKCS#11 2.40 5.6: closing the last session logs the user out. */
	if (sl->nsess == 0)
		token_logout(sl);
}

P11_EXPORT CK_RV
C_CloseSession(CK_SESSION_HANDLE hSession)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	session_remove(sl, s);
	pthread_mutex_unlock(&sl->lock);
	return CKR_OK;
}

P11_EXPORT CK_RV
C_CloseAllSessions(CK_SLOT_ID slotID)
{
	p11_slot *sl;
	CK_RV rv;

	if ((sl = slot_lock(slotID, &rv)) == NULL)
		return rv;
	token_logout(sl); /* before: closing the sessions forgets the login */
	slot_close_sessions(sl);
	pthread_mutex_unlock(&sl->lock);
	return CKR_OK;
}

P11_EXPORT CK_RV
C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if ((rv = session_check_card(sl, s)) != CKR_OK)
		goto out;
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->slotID = s->slot;
	pInfo->flags = s->flags;
	if (sl->tok.logged_in)
		pInfo->state = s->rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
	else
		pInfo->state = s->rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

/* Copies a PIN from the caller into a NUL-terminated buffer. */
static CK_RV
pin_copy(char *dst, size_t cap, const CK_UTF8CHAR *pin, CK_ULONG len)
{
	if (len == 0 || len >= cap)
		return CKR_PIN_LEN_RANGE;
	memcpy(dst, pin, len);
	dst[len] = '\0';
	return CKR_OK;
}

/* The PIN counter after a VERIFY's outcome.  Slot lock held. */
static void
note_pin_result(p11_token *t, int r, int tries)
{
	if (r == 0) {
		t->pin_known = true;
		t->tries_left = -1; /* verified: the card no longer tells */
		t->pin_blocked = false;
	} else if (r == CNIE_ERR_PIN_INCORRECT) {
		t->pin_known = tries >= 0;
		t->tries_left = tries;
	} else if (r == CNIE_ERR_PIN_BLOCKED || r == CNIE_ERR_SW_AUTH_BLOCKED) {
		t->pin_known = true;
		t->tries_left = 0;
		t->pin_blocked = true;
	}
}

P11_EXPORT CK_RV
C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
    CK_ULONG ulPinLen)
{
	char pin[P11_MAX_PIN + 1];
	p11_slot *sl;
	p11_session *s;
	int r, tries = -1;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	pin[0] = '\0';
	if (userType == CKU_SO) {
		/* The card has no security officer: its PUK only unblocks. */
		rv = CKR_USER_TYPE_INVALID;
		goto out;
	}
	if (userType != CKU_USER && userType != CKU_CONTEXT_SPECIFIC) {
		rv = CKR_USER_TYPE_INVALID;
		goto out;
	}
	if (userType == CKU_USER && sl->tok.logged_in) {
		rv = CKR_USER_ALREADY_LOGGED_IN;
		goto out;
	}
	if (userType == CKU_CONTEXT_SPECIFIC && (!s->signing || !s->sign.always_auth)) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	if (pPin == NULL && !sl->pinpad) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (pPin != NULL && (rv = pin_copy(pin, sizeof(pin), pPin, ulPinLen)) != CKR_OK)
		goto out;
	/* Contactless: PACE first (the CAN dialog), then the VERIFY under it. */
	if ((rv = token_pace(sl)) != CKR_OK)
		goto out;
	r = pPin == NULL ? cnie_card_pin_verify_pinpad(sl->tok.card, &tries) :
	    cnie_card_pin_verify(sl->tok.card, pin, &tries);
	if (resumed(sl, &r))
		r = pPin == NULL ? cnie_card_pin_verify_pinpad(sl->tok.card, &tries) :
		    cnie_card_pin_verify(sl->tok.card, pin, &tries);
	if (r == CNIE_ERR_LOGIN_LOST) {
		/*
		 * The card was reset by another program and reconnected before
		 * the VERIFY was sent (card.h): sending it now is the first try.
		 */
		sl->tok.logged_in = false;
		r = pPin == NULL ? cnie_card_pin_verify_pinpad(sl->tok.card, &tries) :
		    cnie_card_pin_verify(sl->tok.card, pin, &tries);
	}
	note_pin_result(&sl->tok, r, tries);
	if (r != 0) {
		if (userType == CKU_CONTEXT_SPECIFIC && !is_removal(r))
			sign_end(s);
		rv = slot_card_error(sl, r);
		goto out;
	}
	if (userType == CKU_USER)
		sl->tok.logged_in = true;
	else
		s->sign.ctx_login_done = true;
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_Logout(CK_SESSION_HANDLE hSession)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (!sl->tok.logged_in)
		rv = CKR_USER_NOT_LOGGED_IN;
	else
		rv = token_logout(sl); /* s may be gone after: not used */
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	(void)pPin;
	(void)ulPinLen;
	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&sl->lock);
	/* No SO login (CKU_SO): unblocking with the PUK is cnie-tool's. */
	return CKR_FUNCTION_NOT_SUPPORTED;
}

P11_EXPORT CK_RV
C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
    CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	char old[P11_MAX_PIN + 1], nw[P11_MAX_PIN + 1];
	p11_slot *sl;
	p11_session *s;
	int r, tries = -1;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	old[0] = nw[0] = '\0';
	if (!s->rw) {
		rv = CKR_SESSION_READ_ONLY;
		goto out;
	}
	if (pOldPin == NULL && pNewPin == NULL && sl->pinpad) {
		if ((rv = token_pace(sl)) != CKR_OK)
			goto out;
		r = cnie_card_pin_change_pinpad(sl->tok.card, &tries);
	} else {
		if (pOldPin == NULL || pNewPin == NULL) {
			rv = CKR_ARGUMENTS_BAD;
			goto out;
		}
		if ((rv = pin_copy(old, sizeof(old), pOldPin, ulOldLen)) != CKR_OK ||
		    (rv = pin_copy(nw, sizeof(nw), pNewPin, ulNewLen)) != CKR_OK)
			goto out;
		if ((rv = token_pace(sl)) != CKR_OK)
			goto out;
		r = cnie_card_pin_change(sl->tok.card, old, nw, &tries);
		if (resumed(sl, &r))
			r = cnie_card_pin_change(sl->tok.card, old, nw, &tries);
	}
	note_pin_result(&sl->tok, r, tries);
	if (r != 0)
		rv = slot_card_error(sl, r);
out:
	OPENSSL_cleanse(old, sizeof(old));
	OPENSSL_cleanse(nw, sizeof(nw));
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
    CK_ULONG_PTR pulOperationStateLen)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	(void)pOperationState;
	(void)pulOperationStateLen;
	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&sl->lock);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

P11_EXPORT CK_RV
C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
    CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
    CK_OBJECT_HANDLE hAuthenticationKey)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	(void)pOperationState;
	(void)ulOperationStateLen;
	(void)hEncryptionKey;
	(void)hAuthenticationKey;
	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&sl->lock);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---- objects ----------------------------------------------------------- */

/* Builds the token's objects if needed.  Slot lock held; may end the token. */
static CK_RV
token_objects(p11_slot *sl)
{
	int r;

	if (sl->tok.objects_built)
		return CKR_OK;
	/* Contactless before PACE: no objects yet (README "Contactless"). */
	if (sl->tok.card == NULL)
		return CKR_OK;
	r = p11_objects_build(&sl->tok);
	if (r == CNIE_ERR_LOGIN_LOST)
		r = p11_objects_build(&sl->tok); /* the reset cost the login only */
	if (resumed(sl, &r))
		r = p11_objects_build(&sl->tok);
	return r == 0 ? CKR_OK : slot_card_error(sl, r);
}

/* The object of h for this session, or NULL.  Slot lock held. */
static p11_object *
session_object(p11_slot *sl, CK_OBJECT_HANDLE h)
{
	long idx = p11_object_index(&sl->tok, h);

	if (idx < 0 || !p11_object_visible(&sl->tok, (size_t)idx))
		return NULL;
	return &sl->tok.objects[idx];
}

P11_EXPORT CK_RV
C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	p11_slot *sl;
	p11_session *s;
	size_t i;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (pTemplate == NULL && ulCount > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (s->finding) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if ((rv = session_check_card(sl, s)) != CKR_OK || (rv = token_objects(sl)) != CKR_OK)
		goto out;
	s->nfound = s->pos = 0;
	for (i = 0; i < sl->tok.nobjects; i++) {
		if (!p11_object_visible(&sl->tok, i))
			continue;
		if (!p11_object_match(&sl->tok.objects[i], pTemplate, ulCount))
			continue;
		s->found[s->nfound++] = p11_object_handle(&sl->tok, i);
	}
	s->finding = true;
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	p11_slot *sl;
	p11_session *s;
	CK_ULONG n = 0;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (phObject == NULL || pulObjectCount == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (!s->finding) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	while (n < ulMaxObjectCount && s->pos < s->nfound)
		phObject[n++] = s->found[s->pos++];
	*pulObjectCount = n;
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (!s->finding)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	s->finding = false;
	s->nfound = s->pos = 0;
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	p11_slot *sl;
	p11_session *s;
	p11_object *o;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (pTemplate == NULL && ulCount > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if ((rv = token_objects(sl)) != CKR_OK)
		goto out;
	if ((o = session_object(sl, hObject)) == NULL) {
		rv = CKR_OBJECT_HANDLE_INVALID;
		goto out;
	}
	rv = p11_object_get(o, pTemplate, ulCount);
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
	p11_slot *sl;
	p11_session *s;
	p11_object *o;
	size_t i;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (pulSize == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if ((rv = token_objects(sl)) != CKR_OK)
		goto out;
	if ((o = session_object(sl, hObject)) == NULL) {
		rv = CKR_OBJECT_HANDLE_INVALID;
		goto out;
	}
	*pulSize = 0;
	for (i = 0; i < o->nattrs; i++)
		*pulSize += o->attrs[i].len;
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

/* Object changes: the card's objects are fixed by personalisation. */
static CK_RV
write_refused(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE h, bool check_object)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (check_object) {
		if ((rv = token_objects(sl)) == CKR_OK)
			rv = session_object(sl, h) == NULL ? CKR_OBJECT_HANDLE_INVALID :
			    CKR_ACTION_PROHIBITED;
	} else {
		rv = s->rw ? CKR_TOKEN_WRITE_PROTECTED : CKR_SESSION_READ_ONLY;
	}
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
    CK_OBJECT_HANDLE_PTR phObject)
{
	if ((pTemplate == NULL && ulCount > 0) || phObject == NULL) {
		CK_RV rv = write_refused(hSession, 0, false);

		return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_CRYPTOKI_NOT_INITIALIZED ?
		    rv : CKR_ARGUMENTS_BAD;
	}
	return write_refused(hSession, 0, false);
}

P11_EXPORT CK_RV
C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
    CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
	(void)pTemplate;
	(void)ulCount;
	(void)phNewObject;
	return write_refused(hSession, hObject, true);
}

P11_EXPORT CK_RV
C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	return write_refused(hSession, hObject, true);
}

P11_EXPORT CK_RV
C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	(void)pTemplate;
	(void)ulCount;
	return write_refused(hSession, hObject, true);
}

/* ---- signing ----------------------------------------------------------- */

P11_EXPORT CK_RV
C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	p11_slot *sl;
	p11_session *s;
	p11_object *o;
	long idx;
	CK_RV rv;

	if ((rv = session_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (pMechanism == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (s->signing) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if ((rv = token_objects(sl)) != CKR_OK)
		goto out;
	idx = p11_object_index(&sl->tok, hKey);
	if (idx < 0) {
		rv = CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	o = &sl->tok.objects[idx];
	if (o->cls != CKO_PRIVATE_KEY) {
		rv = p11_object_visible(&sl->tok, (size_t)idx) ? CKR_KEY_FUNCTION_NOT_PERMITTED :
		    CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	if (!sl->tok.logged_in) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	rv = p11_sign_init(&s->sign, pMechanism, &sl->tok.keys[o->key], o->key);
	if (rv == CKR_OK)
		s->signing = true;
	else
		p11_sign_clear(&s->sign);
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

/*
 * Size query or too-small buffer: PKCS#11 2.40 5.2 (the operation stays
 * active).  Returns true when the call ends there with *rv.
 */
static bool
sign_size(p11_slot *sl, p11_session *s, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len, CK_RV *rv)
{
	size_t max = p11_sign_max_len(&s->sign, &sl->tok.keys[s->sign.key]);

	if (sig == NULL) {
		*sig_len = max;
		*rv = CKR_OK;
		return true;
	}
	if (*sig_len < max) {
		*sig_len = max;
		*rv = CKR_BUFFER_TOO_SMALL;
		return true;
	}
	return false;
}

/* Ends the operation and signs.  Slot lock held; may end the token. */
static CK_RV
sign_finish(p11_slot *sl, p11_session *s, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	size_t n = *sig_len;
	int r = 0;
	CK_RV rv;

	if (!sl->tok.logged_in || (s->sign.always_auth && !s->sign.ctx_login_done)) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	rv = p11_sign_final(&s->sign, sl->tok.card, &sl->tok.keys[s->sign.key], sig, &n, &r,
	    token_resume, sl);
	if (rv == CKR_OK)
		*sig_len = n;
out:
	sign_end(s);
	if (r != 0)
		rv = slot_card_error(sl, r); /* s may be gone now */
	return rv;
}

/* session_lock for C_Sign, C_SignUpdate, C_SignFinal: a signature must be under way. */
static CK_RV
signing_lock(CK_SESSION_HANDLE h, p11_slot **slp, p11_session **sp)
{
	CK_RV rv;

	if ((rv = session_lock(h, slp, sp)) != CKR_OK)
		return rv;
	if (!(*sp)->signing) {
		pthread_mutex_unlock(&(*slp)->lock);
		return CKR_OPERATION_NOT_INITIALIZED;
	}
	return CKR_OK;
}

P11_EXPORT CK_RV
C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = signing_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (pulSignatureLen == NULL || (pData == NULL && ulDataLen > 0)) {
		rv = CKR_ARGUMENTS_BAD;
		goto end;
	}
	if (s->sign.multi) {
		rv = CKR_OPERATION_ACTIVE; /* C_SignUpdate began a multi-part one */
		goto end;
	}
	if (sign_size(sl, s, pSignature, pulSignatureLen, &rv))
		goto out;
	if ((rv = p11_sign_update(&s->sign, pData, ulDataLen)) != CKR_OK)
		goto end;
	rv = sign_finish(sl, s, pSignature, pulSignatureLen);
	goto out;
end:
	sign_end(s);
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = signing_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (pPart == NULL && ulPartLen > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = p11_sign_update(&s->sign, pPart, ulPartLen);
	if (rv != CKR_OK)
		sign_end(s);
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

P11_EXPORT CK_RV
C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = signing_lock(hSession, &sl, &s)) != CKR_OK)
		return rv;
	if (pulSignatureLen == NULL) {
		sign_end(s);
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (sign_size(sl, s, pSignature, pulSignatureLen, &rv))
		goto out;
	rv = sign_finish(sl, s, pSignature, pulSignatureLen);
out:
	pthread_mutex_unlock(&sl->lock);
	return rv;
}

/* ---- what the card does not do ----------------------------------------- */

/* Valid session, function the card cannot perform. */
static CK_RV
unsupported(CK_SESSION_HANDLE h)
{
	p11_slot *sl;
	p11_session *s;
	CK_RV rv;

	if ((rv = session_lock(h, &sl, &s)) != CKR_OK)
		return rv;
	pthread_mutex_unlock(&sl->lock);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

#define UNSUPPORTED(name, params, ...)                                                  \
	P11_EXPORT CK_RV name params                                                    \
	{                                                                               \
		__VA_ARGS__;                                                            \
		return unsupported(hSession);                                           \
	}

UNSUPPORTED(C_EncryptInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k),
    (void)m, (void)k)
UNSUPPORTED(C_Encrypt, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c,
    CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_EncryptUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b,
    CK_BYTE_PTR c, CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_EncryptFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG_PTR b),
    (void)a, (void)b)
UNSUPPORTED(C_DecryptInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k),
    (void)m, (void)k)
UNSUPPORTED(C_Decrypt, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c,
    CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_DecryptUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b,
    CK_BYTE_PTR c, CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_DecryptFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG_PTR b),
    (void)a, (void)b)
UNSUPPORTED(C_DigestInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m), (void)m)
UNSUPPORTED(C_Digest, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c,
    CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_DigestUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b), (void)a,
    (void)b)
UNSUPPORTED(C_DigestKey, (CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE k), (void)k)
UNSUPPORTED(C_DigestFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG_PTR b), (void)a,
    (void)b)
UNSUPPORTED(C_SignRecoverInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE k), (void)m, (void)k)
UNSUPPORTED(C_SignRecover, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c,
    CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_VerifyInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k),
    (void)m, (void)k)
UNSUPPORTED(C_Verify, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c,
    CK_ULONG d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_VerifyUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b), (void)a,
    (void)b)
UNSUPPORTED(C_VerifyFinal, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b), (void)a,
    (void)b)
UNSUPPORTED(C_VerifyRecoverInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m,
    CK_OBJECT_HANDLE k), (void)m, (void)k)
UNSUPPORTED(C_VerifyRecover, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b,
    CK_BYTE_PTR c, CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_DigestEncryptUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b,
    CK_BYTE_PTR c, CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_DecryptDigestUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b,
    CK_BYTE_PTR c, CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_SignEncryptUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b,
    CK_BYTE_PTR c, CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_DecryptVerifyUpdate, (CK_SESSION_HANDLE hSession, CK_BYTE_PTR a, CK_ULONG b,
    CK_BYTE_PTR c, CK_ULONG_PTR d), (void)a, (void)b, (void)c, (void)d)
UNSUPPORTED(C_GenerateKey, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t,
    CK_ULONG n, CK_OBJECT_HANDLE_PTR k), (void)m, (void)t, (void)n, (void)k)
UNSUPPORTED(C_GenerateKeyPair, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m,
    CK_ATTRIBUTE_PTR t1, CK_ULONG n1, CK_ATTRIBUTE_PTR t2, CK_ULONG n2, CK_OBJECT_HANDLE_PTR k1,
    CK_OBJECT_HANDLE_PTR k2), (void)m, (void)t1, (void)n1, (void)t2, (void)n2, (void)k1,
    (void)k2)
UNSUPPORTED(C_WrapKey, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a,
    CK_OBJECT_HANDLE b, CK_BYTE_PTR c, CK_ULONG_PTR d), (void)m, (void)a, (void)b, (void)c,
    (void)d)
UNSUPPORTED(C_UnwrapKey, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a,
    CK_BYTE_PTR b, CK_ULONG c, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k), (void)m,
    (void)a, (void)b, (void)c, (void)t, (void)n, (void)k)
UNSUPPORTED(C_DeriveKey, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a,
    CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k), (void)m, (void)a, (void)t, (void)n,
    (void)k)

/* The token has no RNG for callers (CKF_RNG clear): PKCS#11 2.40 5.15. */
static CK_RV
no_rng(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = unsupported(hSession);

	return rv == CKR_FUNCTION_NOT_SUPPORTED ? CKR_RANDOM_NO_RNG : rv;
}

P11_EXPORT CK_RV
C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
	(void)pSeed;
	(void)ulSeedLen;
	return no_rng(hSession);
}

P11_EXPORT CK_RV
C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData, CK_ULONG ulRandomLen)
{
	(void)pRandomData;
	(void)ulRandomLen;
	return no_rng(hSession);
}

P11_EXPORT CK_RV
C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = unsupported(hSession);

	/* PKCS#11 2.40 5.17: legacy, always this code for a valid session. */
	return rv == CKR_FUNCTION_NOT_SUPPORTED ? CKR_FUNCTION_NOT_PARALLEL : rv;
}

P11_EXPORT CK_RV
C_CancelFunction(CK_SESSION_HANDLE hSession)
{
	CK_RV rv = unsupported(hSession);

	return rv == CKR_FUNCTION_NOT_SUPPORTED ? CKR_FUNCTION_NOT_PARALLEL : rv;
}

/* PKCS#11 3.0 additions offered through the 3.0 interface. */
static CK_RV
v3_login_user(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR *pPin,
    CK_ULONG ulPinLen, CK_UTF8CHAR *pUsername, CK_ULONG ulUsernameLen)
{
	/* One user, no name (PKCS#11 3.0 5.6.4): a name is not supported. */
	if (pUsername != NULL || ulUsernameLen != 0)
		return unsupported(hSession);
	return C_Login(hSession, userType, pPin, ulPinLen);
}

static CK_RV
v3_session_cancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
	(void)flags;
	return unsupported(hSession);
}

static CK_RV
v3_message_unsupported(void)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---- function lists and interfaces -------------------------------------- */

#define FUNCTIONS_2_40                                                                  \
	C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList, C_GetSlotList,           \
	    C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo,       \
	    C_InitToken, C_InitPIN, C_SetPIN, C_OpenSession, C_CloseSession,             \
	    C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState,                   \
	    C_SetOperationState, C_Login, C_Logout, C_CreateObject, C_CopyObject,        \
	    C_DestroyObject, C_GetObjectSize, C_GetAttributeValue, C_SetAttributeValue,  \
	    C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal, C_EncryptInit,         \
	    C_Encrypt, C_EncryptUpdate, C_EncryptFinal, C_DecryptInit, C_Decrypt,        \
	    C_DecryptUpdate, C_DecryptFinal, C_DigestInit, C_Digest, C_DigestUpdate,     \
	    C_DigestKey, C_DigestFinal, C_SignInit, C_Sign, C_SignUpdate, C_SignFinal,   \
	    C_SignRecoverInit, C_SignRecover, C_VerifyInit, C_Verify, C_VerifyUpdate,    \
	    C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover, C_DigestEncryptUpdate,  \
	    C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate,           \
	    C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey,       \
	    C_SeedRandom, C_GenerateRandom, C_GetFunctionStatus, C_CancelFunction,       \
	    C_WaitForSlotEvent

static CK_FUNCTION_LIST functions_2_40 = { { 2, 40 }, FUNCTIONS_2_40 };

CK_RV C_GetInterfaceList(CK_INTERFACE *pInterfacesList, CK_ULONG *pulCount);
CK_RV C_GetInterface(CK_UTF8CHAR *pInterfaceName, CK_VERSION *pVersion,
    CK_INTERFACE **ppInterface, CK_FLAGS flags);

#define M v3_message_unsupported
static p11_function_list_3_0 functions_3_0 = {
	{ 3, 0 },
	FUNCTIONS_2_40,
	C_GetInterfaceList,
	C_GetInterface,
	v3_login_user,
	v3_session_cancel,
	{ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M },
};
#undef M

static CK_UTF8CHAR interface_name[] = "PKCS 11";

static CK_INTERFACE interfaces[] = {
	{ interface_name, &functions_3_0, 0 },
	{ interface_name, &functions_2_40, 0 },
};
#define NINTERFACES (sizeof(interfaces) / sizeof(interfaces[0]))

P11_EXPORT CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (ppFunctionList == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &functions_2_40;
	return CKR_OK;
}

P11_EXPORT CK_RV
C_GetInterfaceList(CK_INTERFACE *pInterfacesList, CK_ULONG *pulCount)
{
	size_t i;

	if (pulCount == NULL)
		return CKR_ARGUMENTS_BAD;
	if (pInterfacesList == NULL) {
		*pulCount = NINTERFACES;
		return CKR_OK;
	}
	if (*pulCount < NINTERFACES) {
		*pulCount = NINTERFACES;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (i = 0; i < NINTERFACES; i++)
		pInterfacesList[i] = interfaces[i];
	*pulCount = NINTERFACES;
	return CKR_OK;
}

P11_EXPORT CK_RV
C_GetInterface(CK_UTF8CHAR *pInterfaceName, CK_VERSION *pVersion, CK_INTERFACE **ppInterface,
    CK_FLAGS flags)
{
	size_t i;

	if (ppInterface == NULL)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < NINTERFACES; i++) {
		const CK_VERSION *v = interfaces[i].pFunctionList;

		if (pInterfaceName != NULL &&
		    strcmp((const char *)pInterfaceName, (const char *)interface_name) != 0)
			continue;
		if (pVersion != NULL && (pVersion->major != v->major || pVersion->minor != v->minor))
			continue;
		if ((flags & interfaces[i].flags) != flags)
			continue;
		*ppInterface = &interfaces[i];
		return CKR_OK;
	}
	/* PKCS#11 3.0 5.4: no such interface. */
	return CKR_ARGUMENTS_BAD;
}
