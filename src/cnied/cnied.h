/*
 * cnied internals: the configuration and the leaf modules every other file
 * may use.  One file per role; calls go down this map, never up it (the
 * two ways back up are callbacks: a job's completion callback, worker.h,
 * and the events sink, events.c):
 *
 *   main.c       options, config file, state dir, lock, port file, startup
 *                                   -> http, api, worker, events, tls, audit
 *   http.c       the only file that knows libevent's HTTP: evhttp over
 *                bufferevent_openssl, limits, Host and Origin allowlist,
 *                the cnied_reply of a request, event streams (http.h)
 *                                           -> head, route, events, listen
 *   route.c      the route table and every path-, method-, header- and
 *                size-based answer, then dispatch (route.h)  -> api, reply
 *   api.c        card endpoints: body -> job -> answer, audit (api.h)
 *                                          -> worker, request, ops (names)
 *   op_status.c  GET /v1/status from the reader snapshot         -> events
 *   reply.c      the one table from errors to HTTP status and stable code,
 *                error bodies (reply.h: the request/reply seam)
 *   worker.c     the card worker thread and its queue (worker.h; the job
 *                itself: job.h)                                 -> ops, chan
 *   ops.c        worker side: op table, reader choice, card opening, PIN,
 *                keys (ops.h)                   -> pinentry, tries, events
 *   op_certificate.c, op_authenticate.c, op_sign.c, op_identity.c
 *                one card operation each (ops.h)             -> ops.c
 *   tries.c      PIN tries left, per reader and card (ops.h)
 *   tls.c        local CA + server certificate, SSL_CTX
 *   listen.c     loopback listener addresses, "port in use" diagnosis
 *   peer.c       the user on the other end of a connection (sock_diag)
 *   kiosk.c      kiosk mode policy (no dialog), public copies of ca.pem/port
 *   origin.c     Origin / Host parsing and checks (pure, fuzzed)
 *   request.c    strict JSON request bodies (pure, fuzzed)
 *   head.c       the raw request head, checked before libevent parses it
 *                (head.h; pure, fuzzed)
 *   description.c  the /v1/sign description's check (pure, fuzzed)
 *   pinentry.c   the dialogs (PIN, CAN, consent) over the shared pinentry
 *                client, src/pinentry/cnie_pinentry.h
 *   events.c     reader/card watcher, reader snapshot, event texts -> chan
 *   chan.c       a pipe carrying pointers from a thread to the loop
 *   audit.c      audit log
 */
#ifndef CNIED_H
#define CNIED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <cnie/hash.h>

#include <libintl.h>

#include "cnie_pinentry.h"

/*
 * Dialog texts in the desktop user's language: _("...") through the "cnie"
 * gettext catalogue (po/), bound at startup by cnied_locale_init();
 * N_("...") only marks a text for po/cnie.pot.  Logs, audit and JSON stay
 * untranslated.
 */
#define _(s) gettext(s)
#define N_(s) (s)

/*
 * Default port: 28219, in IANA's user range, assigned to nobody, below the
 * kernel's ephemeral range (32768..60999: never taken by an outgoing
 * connection), and not the port of another eID client (AusweisApp 24727,
 * NexU 9795).  docs/bridge-api.md "Port".
 */
#define CNIED_DEFAULT_PORT 28219
#define CNIED_MAX_LISTEN 8
#define CNIED_MAX_ORIGINS 32
#define CNIED_MAX_USERS 16
#define CNIED_MAX_ORIGIN_LEN 256
#define CNIED_MAX_HEADERS 8192
#define CNIED_MAX_BODY 65536
#define CNIED_MAX_CONNECTIONS 256
#define CNIED_JSON_MAX_DEPTH 4
#define CNIED_READER_MAX 128 /* reader name buffer, NUL included */

/* Daemon-level errors beside the cnie_error space (reply.c maps them). */
#define CNIED_ERR_MULTIPLE (-1001)	 /* several cards, none chosen */
#define CNIED_ERR_CERT_MISMATCH (-1002) /* sign: not this card's signing certificate */
#define CNIED_ERR_BAD_ALG (-1003)	 /* sign: padding unsuited to the key */
#define CNIED_ERR_SHUTDOWN (-1004)	 /* cnied is stopping: the operation was cut short */
#define CNIED_ERR_CLIENT_GONE (-1005)	 /* the client left before its answer */
#define CNIED_ERR_DIALOG CNIE_PINENTRY_ERR_FAILED /* the pinentry could not be run or failed */
/* Kiosk mode (kiosk.c): the PIN only on a PIN pad, no CAN dialog. */
#define CNIED_ERR_PINPAD_REQUIRED (-1010) /* a PIN operation on a reader without PIN pad */
#define CNIED_ERR_PACE_READER_REQUIRED (-1011) /* a CAN needed: no dialog to ask it */
/* The reader name reported for the in-process reference card. */
#define CNIED_REFCARD_READER "CNIE Reference Card (in-process)"

/* ---- configuration (main.c) ------------------------------------------ */
typedef struct cnied_config {
	char *listen[CNIED_MAX_LISTEN]; /* "127.0.0.1:28219", "[::1]:28219" */
	size_t nlisten;
	char *origins[CNIED_MAX_ORIGINS];
	size_t norigins;
	char *pinentry;	    /* program path */
	char *state_dir;
	char *audit_path;   /* NULL: no audit log */
	char *refcard_dir;  /* NULL: PC/SC */
	bool foreground;
	int request_timeout; /* seconds: whole request (headers + body) */
	int idle_timeout;    /* seconds: keep-alive idle */
	int queue_timeout;   /* seconds a request may wait for the card */
	int pin_timeout;     /* seconds the pinentry dialog stays up */
	int max_connections;
	uint32_t self_uid;		 /* the user cnied serves (its own uid) */
	uint32_t users[CNIED_MAX_USERS]; /* allow-user: other users let in */
	size_t nusers;
	bool kiosk;	   /* kiosk mode: no dialog at all (kiosk.c, docs/kiosk.md) */
	char *public_dir;  /* NULL, or where ca.pem and cnied.port are copied 0644 */
} cnied_config;

/* ---- kiosk.c --------------------------------------------------------- */
/*
 * Kiosk mode (docs/kiosk.md): cnied opens no dialog.  Consent is given on
 * the kiosk page (the only allowed origin, the operator's), the PIN only on
 * the reader's PIN pad.  These are the policy's only entry points.
 *
 * True when the consent for op (cnied_op_name) asked by origin is the
 * kiosk page's (kiosk mode: logged, no dialog); false: ask the holder.
 */
bool cnied_kiosk_consent(const cnied_config *cfg, const char *origin, const char *op);
/* Before a PIN would be asked through pinentry: 0, or CNIED_ERR_PINPAD_REQUIRED. */
int cnied_kiosk_pin_dialog(const cnied_config *cfg);
/* Before a CAN would be asked through pinentry: 0, or CNIED_ERR_PACE_READER_REQUIRED. */
int cnied_kiosk_can_dialog(const cnied_config *cfg);
/*
 * Startup check of a kiosk configuration: explicit origins (not the
 * built-in portal list), at least one allow-user; prints why on stderr.
 * origins_explicit: an allow-origin came from the config or the command line.
 */
int cnied_kiosk_check(const cnied_config *cfg, bool origins_explicit);
/*
 * public_dir: must be a directory of ours, not writable by others; 0 or -1
 * (message on stderr).
 */
int cnied_public_dir_check(const char *dir);
/* Copies state_dir/name to public_dir/name, mode 0644, atomically; 0 or -1. */
int cnied_public_copy(const char *state_dir, const char *public_dir, const char *name);

/* ---- peer.c ---------------------------------------------------------- */
/*
 * The owner of the client socket of the accepted loopback TCP connection
 * fd, from the kernel (sock_diag, exact 4-tuple).  0, or -1 when it cannot
 * be known (then the connection is refused).
 */
int cnied_peer_uid(int fd, uint32_t *uid);
/* The daemon's own user or one of cfg->users. */
bool cnied_peer_allowed(const cnied_config *cfg, uint32_t uid);

/* ---- origin.c -------------------------------------------------------- */
/*
 * Canonical origin check (RFC 6454 serialisation): "https://host[:port]" or
 * "http://host[:port]", lower-case scheme and host, no path, no trailing
 * slash, no userinfo, port 1..65535 without leading zeros.  0 or -1.
 */
int cnied_origin_valid(const char *s, size_t n);
/* Exact match of origin (n bytes) against the allowlist. */
bool cnied_origin_allowed(const cnied_config *cfg, const char *origin, size_t n);
/*
 * Host header check against DNS rebinding: "127.0.0.1:P", "[::1]:P" or
 * "localhost:P" (case-insensitive host) where P is one of ports[].
 */
bool cnied_host_allowed(const char *host, size_t n, const uint16_t *ports, size_t nports);

/* ---- request.c ------------------------------------------------------- */
typedef struct cnied_req_cert {
	bool sign; /* "type": "sign" (else "auth") */
	char reader[CNIED_READER_MAX];
} cnied_req_cert;

#define CNIED_NONCE_MIN 44
#define CNIED_NONCE_MAX 128
typedef struct cnied_req_auth {
	char nonce[CNIED_NONCE_MAX + 1]; /* as sent: 44..128 printable ASCII, hashed as is */
	char reader[CNIED_READER_MAX];
} cnied_req_auth;

#define CNIED_DESC_MAX_CHARS 100 /* sign "description": characters (code points) */
#define CNIED_DESC_MAX_BYTES 400 /* their UTF-8, at most 4 bytes each */
typedef struct cnied_req_sign {
	uint8_t *cert; /* DER, owned */
	size_t cert_len;
	uint8_t hash[64];
	size_t hash_len;
	cnie_card_hash hash_fn; /* one of cnied_sign_hash_at() */
	bool pss; /* "paddingScheme": "PSS" (RSA only) */
	char reader[CNIED_READER_MAX];
	/* "description": the portal's words for the document, "" when absent
	 * (cnied_description_check: at most CNIED_DESC_MAX_CHARS characters). */
	char description[CNIED_DESC_MAX_BYTES + 1];
} cnied_req_sign;

#define CNIED_ID_MRZ 0x01
#define CNIED_ID_NAMES 0x02
#define CNIED_ID_PHOTO 0x04
#define CNIED_ID_RAW 0x08

typedef struct cnied_req_identity {
	unsigned fields; /* CNIED_ID_* */
	uint8_t challenge[8];
	bool has_challenge;
	char reader[CNIED_READER_MAX];
} cnied_req_identity;

/*
 * Parses a body strictly: JSON object, no duplicate keys, depth <= 4,
 * exact field types, unknown fields refused.  On error *why (static text)
 * says what is wrong.  0, -1 (a bad body: 400) or CNIE_ERR_NOMEM (our
 * allocation failed: 500, not the page's fault).  Pure functions: no
 * state, no I/O.
 */
int cnied_parse_cert(const char *body, size_t n, cnied_req_cert *out, const char **why);
int cnied_parse_auth(const char *body, size_t n, cnied_req_auth *out, const char **why);
int cnied_parse_sign(const char *body, size_t n, cnied_req_sign *out, const char **why);
void cnied_req_sign_clear(cnied_req_sign *r);
int cnied_parse_identity(const char *body, size_t n, cnied_req_identity *out,
    const char **why);
/* The hashes a page may sign with, i = 0..; CNIE_CARD_HASH_NONE past the last. */
cnie_card_hash cnied_sign_hash_at(size_t i);

/* ---- description.c --------------------------------------------------- */
/*
 * A /v1/sign "description" (the portal's words shown in the consent
 * dialog): n bytes of UTF-8, 1 to CNIED_DESC_MAX_CHARS characters, not only
 * spaces, no control character (C0, DEL, C1), no line or paragraph
 * separator, no bidirectional formatting character (LRM, RLM, ALM, the
 * embeddings, overrides and isolates) nor any other invisible format
 * character (zero-width space, word joiner, BOM, tags...) except ZWNJ and
 * ZWJ, which some scripts need.  0, or -1 with *why (static, names the
 * field).  Pure.
 */
int cnied_description_check(const char *s, size_t n, const char **why);

/* ---- tls.c ----------------------------------------------------------- */
struct ssl_ctx_st;
/* Renewal margin: a certificate this close to its end is replaced. */
#define CNIED_TLS_RENEW_DAYS 30
/*
 * Creates ca.pem/server.pem/server.key in state_dir when absent, corrupt,
 * mismatched, expired or near expiry (logged); returns an SSL_CTX.
 */
int cnied_tls_init(const char *state_dir, struct ssl_ctx_st **out);
/* The same check on a running daemon: 1 renewed and loaded into ctx, 0 kept, -1. */
int cnied_tls_refresh(const char *state_dir, struct ssl_ctx_st *ctx);

/* ---- listen.c -------------------------------------------------------- */
/* "127.0.0.1:P", "[::1]:P", "localhost:P" -> numeric loopback address + port; 0 or -1. */
int cnied_listen_parse(const char *s, char *addr, size_t amax, uint16_t *port);
/* The port of a bound socket and whether its address is loopback; 0 or -1. */
int cnied_listen_fd_port(int fd, uint16_t *port, bool *loopback);
/* Names the program listening on a TCP port (from /proc), for "port in use". */
void cnied_listen_port_holder(uint16_t port, char *out, size_t max);

/* ---- pinentry.c ------------------------------------------------------ */
#define CNIED_SECRET_MAX 64
/*
 * One dialog through the shared client (src/pinentry/cnie_pinentry.h) with
 * cfg's program and timeout; texts already translated (gettext).  0,
 * CNIE_ERR_CANCELLED, CNIE_ERR_TIMEOUT, CNIE_ERR_PIN_FORMAT (getpin: too
 * long), the abort's error, CNIED_ERR_DIALOG (the pinentry failed: logged).
 */
int cnied_pinentry_getpin(const cnied_config *cfg, const cnie_pinentry_text *t, char *out,
    size_t out_max);
int cnied_pinentry_confirm(const cnied_config *cfg, const cnie_pinentry_text *t);
/* One OK button (what to do next, e.g. a blocked PIN). */
int cnied_pinentry_message(const cnied_config *cfg, const cnie_pinentry_text *t);
/*
 * main(), first: the locale of the environment (LC_NUMERIC stays "C") and
 * the "cnie" catalogue (CNIE_LOCALEDIR_OVERRIDE: the build tree's, tests),
 * so the dialogs and the pinentry's own labels (OPTION lc-ctype and
 * lc-messages) follow the user's language.
 */
void cnied_locale_init(void);
/*
 * Any thread: kills the dialog on screen; it and every later one return err
 * (CNIED_ERR_SHUTDOWN, CNIED_ERR_CLIENT_GONE) until cnied_pinentry_arm().
 */
void cnied_pinentry_abort(int err);
/* Stopping for good: a dialog that outlived its SIGTERM gets SIGKILL. */
void cnied_pinentry_kill(void);
/* The worker, starting a job: dialogs may open again. */
void cnied_pinentry_arm(void);

/* ---- audit.c --------------------------------------------------------- */
int cnied_audit_open(const char *path);
/* fp32: SHA-256 of the certificate used, or NULL. */
void cnied_audit(const char *origin, const char *op, const char *result,
    const uint8_t *fp32);
void cnied_audit_close(void);

/* ---- chan.c ---------------------------------------------------------- */
struct event_base;
struct event;
/*
 * A pipe that carries pointers from a thread to the event loop: the
 * sender's end blocks (nothing is dropped), the loop's end does not.  cb
 * runs on the loop thread once per pointer received.
 */
typedef struct cnied_chan {
	int fd[2];
	struct event *ev;
	void (*cb)(void *ptr, void *arg);
	void *arg;
} cnied_chan;
#define CNIED_CHAN_INIT {{-1, -1}, NULL, NULL, NULL}
int cnied_chan_open(cnied_chan *c, struct event_base *base, void (*cb)(void *ptr, void *arg),
    void *arg);
/* Any thread; 0 or -1 (the pointer was not sent: the caller still owns it). */
int cnied_chan_send(cnied_chan *c, void *ptr);
/* Stops delivery, hands every pointer still in the pipe to drop, closes. */
void cnied_chan_close(cnied_chan *c, void (*drop)(void *ptr));

/* ---- events.c -------------------------------------------------------- */
/* Reader snapshot for /v1/status (filled by the watcher, guarded inside). */
typedef struct cnied_reader_info {
	char name[CNIED_READER_MAX];
	bool card;
	bool checked;	 /* a card operation looked at this card (else recognised unknown) */
	bool recognised; /* meaningful only when checked */
	bool pinpad;	 /* PIN pad (VERIFY_PIN_DIRECT): probed when the reader appears */
	bool probed;	 /* the reader's features were read (direct connection) */
} cnied_reader_info;
#define CNIED_MAX_READERS 16
size_t cnied_readers_snapshot(cnied_reader_info *out, size_t max, int *err);
/*
 * Loop thread, from /v1/status: when the snapshot says pcscd is gone, tries
 * a new PC/SC context and, pcscd being back, refreshes the snapshot at once
 * and wakes the watcher (no stale "no-service" after a pcscd restart).
 */
void cnied_readers_revive(void);
/* The card worker reports what it learnt about a reader's card. */
void cnied_readers_note(const char *reader, bool recognised, bool pinpad);
/*
 * Starts the reader watcher.  Each reader/card change becomes one
 * Server-Sent Events text ("event: card\ndata: {...}\n\n") handed to
 * sink on the loop thread (sink may be NULL: nobody listens).
 */
int cnied_events_start(struct event_base *base, const cnied_config *cfg,
    void (*sink)(const char *text, void *arg), void *arg);
void cnied_events_stop(void);
/* The opening text of a new event stream: the current readers and cards (caller frees). */
char *cnied_events_hello(void);

#endif
