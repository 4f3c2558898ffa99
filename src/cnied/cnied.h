/*
 * cnied internals: what the files of the daemon share.  One file per role:
 *   main.c     options, config file, state dir, lock, port file, startup
 *   tls.c      local CA + server certificate, SSL_CTX
 *   http.c     evhttp over bufferevent_openssl, limits, dispatch, replies
 *   origin.c   Origin / Host parsing and checks (pure, fuzzed)
 *   request.c  strict JSON request bodies, base64 (pure, fuzzed)
 *   api.c      endpoints: request -> job -> JSON answer
 *   worker.c   the card worker thread and its queue
 *   pinentry.c Assuan pinentry client (PIN, CAN, consent)
 *   events.c   reader/card watcher and Server-Sent Events
 *   audit.c    audit log
 */
#ifndef CNIED_H
#define CNIED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CNIED_DEFAULT_PORT 24727
#define CNIED_MAX_LISTEN 8
#define CNIED_MAX_ORIGINS 32
#define CNIED_MAX_ORIGIN_LEN 256
#define CNIED_MAX_HEADERS 8192
#define CNIED_MAX_BODY 65536
#define CNIED_MAX_CONNECTIONS 256
#define CNIED_JSON_MAX_DEPTH 4

/* Daemon-level errors beside the cnie_error space (api.c maps them). */
#define CNIED_ERR_MULTIPLE (-1001)	 /* several cards, none chosen */
#define CNIED_ERR_CERT_MISMATCH (-1002) /* sign: not this card's signing certificate */
#define CNIED_ERR_BAD_ALG (-1003)	 /* sign: padding unsuited to the key */
/* The reader name reported for the in-process reference card. */
#define CNIED_REFCARD_READER "CNIE Reference Card (in-process)"

/* ---- configuration (main.c) ------------------------------------------ */
typedef struct cnied_config {
	char *listen[CNIED_MAX_LISTEN]; /* "127.0.0.1:24727", "[::1]:24727" */
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
} cnied_config;

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
typedef enum cnied_hash {
	CNIED_HASH_SHA256 = 1,
	CNIED_HASH_SHA384,
	CNIED_HASH_SHA512,
} cnied_hash;

typedef struct cnied_req_cert {
	bool sign; /* "type": "sign" (else "auth") */
	char reader[128];
} cnied_req_cert;

typedef struct cnied_req_auth {
	char nonce[513]; /* base64 text as sent (its ASCII bytes are hashed) */
	char reader[128];
} cnied_req_auth;

typedef struct cnied_req_sign {
	uint8_t *cert; /* DER, owned */
	size_t cert_len;
	uint8_t hash[64];
	size_t hash_len;
	cnied_hash hash_fn;
	bool pss; /* "paddingScheme": "PSS" (RSA only) */
	char reader[128];
} cnied_req_sign;

#define CNIED_ID_MRZ 0x01
#define CNIED_ID_NAMES 0x02
#define CNIED_ID_PHOTO 0x04
#define CNIED_ID_RAW 0x08

typedef struct cnied_req_identity {
	unsigned fields; /* CNIED_ID_* */
	uint8_t challenge[8];
	bool has_challenge;
	char reader[128];
} cnied_req_identity;

/*
 * Parses a body strictly: JSON object, no duplicate keys, depth <= 4,
 * exact field types, unknown fields refused.  On error *why (static text)
 * says what is wrong.  0 or -1.
 */
int cnied_parse_cert(const char *body, size_t n, cnied_req_cert *out, const char **why);
int cnied_parse_auth(const char *body, size_t n, cnied_req_auth *out, const char **why);
int cnied_parse_sign(const char *body, size_t n, cnied_req_sign *out, const char **why);
void cnied_req_sign_clear(cnied_req_sign *r);
int cnied_parse_identity(const char *body, size_t n, cnied_req_identity *out,
    const char **why);
size_t cnied_hash_len(cnied_hash h);
const char *cnied_hash_name(cnied_hash h);

/* ---- tls.c ----------------------------------------------------------- */
struct ssl_ctx_st;
/* Creates ca.pem/server.pem/server.key in state_dir when absent; returns an SSL_CTX. */
int cnied_tls_init(const char *state_dir, struct ssl_ctx_st **out);

/* ---- pinentry.c ------------------------------------------------------ */
#define CNIED_SECRET_MAX 64
/* 0, or a cnie_error (CNIE_ERR_CANCELLED, CNIE_ERR_TIMEOUT, CNIE_ERR_IO). */
int cnied_pinentry_getpin(const char *program, int timeout, const char *title,
    const char *desc, const char *prompt, char *out, size_t out_max);
int cnied_pinentry_confirm(const char *program, int timeout, const char *title,
    const char *desc);

/* ---- audit.c --------------------------------------------------------- */
int cnied_audit_open(const char *path);
/* fp32: SHA-256 of the certificate used, or NULL. */
void cnied_audit(const char *origin, const char *op, const char *result,
    const uint8_t *fp32);
void cnied_audit_close(void);

/* ---- worker.c -------------------------------------------------------- */
typedef enum cnied_op {
	CNIED_OP_CERT = 1,
	CNIED_OP_AUTH,
	CNIED_OP_SIGN,
	CNIED_OP_IDENTITY,
} cnied_op;

typedef struct cnied_job {
	cnied_op op;
	char origin[CNIED_MAX_ORIGIN_LEN + 1];
	union {
		cnied_req_cert cert;
		cnied_req_auth auth;
		cnied_req_sign sign;
		cnied_req_identity identity;
	} u;
	/* results, written by the worker */
	int err;	  /* cnie_error, 0 = success */
	int tries_left;	  /* with CNIE_ERR_PIN_INCORRECT */
	json_t *answer;	  /* on success */
	uint8_t cert_fp[32];
	bool has_fp;
	/* loop side */
	void *req;	  /* struct evhttp_request * */
	struct event *timer; /* queue timeout */
	bool started;	  /* taken by the worker */
	struct cnied_job *next;
} cnied_job;

struct event_base;
int cnied_worker_start(struct event_base *base, const cnied_config *cfg);
void cnied_worker_stop(void);
/* Queues job (taken over); done_cb runs on the loop thread when finished. */
void cnied_worker_submit(cnied_job *job);
/* Called on the loop thread when a job ends (api.c). */
void cnied_api_job_done(cnied_job *job);
void cnied_job_free(cnied_job *job);

/* Reader snapshot for /v1/status (filled by events.c, guarded inside). */
typedef struct cnied_reader_info {
	char name[128];
	bool card;
	bool recognised;
	bool pinpad;
} cnied_reader_info;
#define CNIED_MAX_READERS 16
size_t cnied_readers_snapshot(cnied_reader_info *out, size_t max, int *err);
/* The worker reports what it learnt about a reader's card. */
void cnied_readers_note(const char *reader, bool recognised, bool pinpad);

/* ---- events.c -------------------------------------------------------- */
int cnied_events_start(struct event_base *base, const cnied_config *cfg);
void cnied_events_stop(void);
/* Registers an SSE client (GET /v1/events), request already checked. */
void cnied_events_add_client(void *req, const char *origin);

/* ---- http.c ---------------------------------------------------------- */
int cnied_http_start(struct event_base *base, const cnied_config *cfg,
    struct ssl_ctx_st *ssl, const int *fds, size_t nfds, uint16_t *ports,
    size_t *nports);
void cnied_http_stop(void);
/* Adds the common headers (no-store, Vary, ACAO when origin != NULL). */
void cnied_http_common_headers(void *req, const char *origin);
/* Sends a JSON reply (j stolen) with the common headers. */
void cnied_http_reply_json(void *req, int status, const char *origin, json_t *j);
/* Sends {"error":{"code","message"[,"triesLeft"]}}. */
void cnied_http_reply_error(void *req, int status, const char *origin, const char *code,
    const char *message, int tries_left);
/* Stops the connection's request deadline (long-lived replies: SSE, card work). */
void cnied_http_hold(void *req);

/* ---- api.c ----------------------------------------------------------- */
void cnied_api_init(const cnied_config *cfg);
/* Handles an allowed request (origin may be NULL for GET /v1/status). */
void cnied_api_handle(void *req, const char *path, bool post, const char *origin,
    const char *body, size_t body_len);
/* cnie_error -> HTTP status and stable code. */
void cnied_api_error_for(int err, int *status, const char **code);

#endif
