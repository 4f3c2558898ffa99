/*
 * In-process tests of cnied's API layer (src/cnied: route.c, api.c,
 * worker.c, ops.c, op_*.c, tries.c) against the reference card, beside the
 * black-box tests of cnied_test.py.  Requests go through the route table
 * (cnied_dispatch) and answers come back through a recording cnied_reply:
 * no HTTP, no TLS, but the real worker thread and event loop, the real
 * card (build/cards/ec, build/cards/rsa) and the real Assuan pinentry path
 * through tests/harness/pinentry-script.  Tokens are checked with the
 * project's Web eID verifier, signatures with OpenSSL.
 *
 * The runner fails when it ran no check at all (checks are counted).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cnie/base64.h>
#include <cnie/error.h>
#include <cnie/webeid.h>

#include "api.h"
#include "cnied.h"
#include "ops.h"
#include "reply.h"
#include "route.h"
#include "worker.h"

#define ORIGIN "https://portal.example"

static unsigned n_checks;
#define CHECK(c) do { n_checks++; assert_true(c); } while (0)
#define CHECK_INT(a, b) do { n_checks++; assert_int_equal(a, b); } while (0)
#define CHECK_STR(a, b) do { n_checks++; assert_string_equal(a, b); } while (0)

static char tmpdir[] = "/tmp/cnied-api-XXXXXX";
static char pe_env[300], pe_log[300], audit_path[300];
static char pinentry_path[] = CNIE_TEST_SOURCE_DIR "/tests/harness/pinentry-script";
static char ec_dir[] = CNIE_TEST_BUILD_DIR "/cards/ec";
static char rsa_dir[] = CNIE_TEST_BUILD_DIR "/cards/rsa";
static char blocked_dir[] = CNIE_TEST_BUILD_DIR "/cards/blocked";
static char origin0[] = ORIGIN;
static cnied_config cfg;
static struct event_base *base;

/* ---- a recording cnied_reply ------------------------------------------- */

typedef enum { ANS_NONE, ANS_JSON, ANS_PREFLIGHT, ANS_STREAM } ans_kind;

typedef struct answer {
	int calls;
	ans_kind kind;
	int status;
	char origin[CNIED_MAX_ORIGIN_LEN + 1]; /* "" when none */
	json_t *body;
	void (*gone)(void *arg); /* the API's watch (rec_watch) */
	void *gone_arg;
} answer;

static void
record(cnied_reply *rp, ans_kind kind, int status, const char *origin, json_t *body)
{
	answer *a = rp->ctx;

	a->calls++;
	a->kind = kind;
	a->status = status;
	snprintf(a->origin, sizeof(a->origin), "%s", origin != NULL ? origin : "");
	a->body = body;
}

static void
rec_json(cnied_reply *rp, int status, const char *origin, json_t *body)
{
	record(rp, ANS_JSON, status, origin, body);
}

static void
rec_preflight(cnied_reply *rp, const char *origin)
{
	record(rp, ANS_PREFLIGHT, 204, origin, NULL);
}

static void
rec_stream(cnied_reply *rp, const char *origin)
{
	record(rp, ANS_STREAM, 200, origin, NULL);
}

static void
rec_watch(cnied_reply *rp, void (*gone)(void *arg), void *arg)
{
	answer *a = rp->ctx;

	a->gone = gone;
	a->gone_arg = arg;
}

static const cnied_reply_ops rec_ops = {rec_json, rec_preflight, rec_stream, rec_watch};

static void
answer_clear(answer *a)
{
	json_decref(a->body);
	memset(a, 0, sizeof(*a));
}

/* Dispatches without waiting (the answer may come from the worker later). */
static void
start(answer *a, cnied_method m, const char *path, const char *origin, const char *body)
{
	cnied_request rq;
	cnied_reply rp = {&rec_ops, a};

	memset(a, 0, sizeof(*a));
	memset(&rq, 0, sizeof(rq));
	rq.method = m;
	rq.path = path;
	rq.origin = origin;
	rq.content_type = body != NULL ? "application/json" : NULL;
	rq.body = body != NULL ? body : "";
	rq.body_len = body != NULL ? strlen(body) : 0;
	cnied_dispatch(&rq, &rp);
}

/* Runs the loop until a has its answer. */
static void
wait_answer(answer *a)
{
	while (a->calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
}

static void
call(answer *a, cnied_method m, const char *path, const char *origin, const char *body)
{
	start(a, m, path, origin, body);
	wait_answer(a);
	CHECK_INT(a->calls, 1);
}

static const char *
err_code(const answer *a)
{
	return json_string_value(json_object_get(json_object_get(a->body, "error"), "code"));
}

static const char *
str_at(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* ---- the scripted pinentry ---------------------------------------------- */

/* The answers of the next dialogs (pinentry-script reads the file at start). */
static void
pinentry_set(const char *pin, const char *can, bool deny, int sleep_s)
{
	FILE *f = fopen(pe_env, "w");

	assert_non_null(f);
	fprintf(f, "PINENTRY_SCRIPT_PIN=%s\nPINENTRY_SCRIPT_CAN=%s\n", pin, can);
	if (deny)
		fprintf(f, "PINENTRY_SCRIPT_DENY=1\n");
	if (sleep_s > 0)
		fprintf(f, "PINENTRY_SCRIPT_SLEEP=%d\n", sleep_s);
	fclose(f);
}

/*
 * A wrong PIN: pin in the first dialog, then the dialog that asks again
 * (SETERROR) is cancelled: the request ends as user-cancelled, the card
 * having spent one try.
 */
static void
pinentry_wrong(const char *pin)
{
	FILE *f = fopen(pe_env, "w");

	assert_non_null(f);
	fprintf(f, "PINENTRY_SCRIPT_PIN=%s\nPINENTRY_SCRIPT_CAN=123456\n"
	    "PINENTRY_SCRIPT_RETRY_CANCEL=1\n", pin);
	fclose(f);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	if (f == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	if (n > 0 && fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = '\0';
	fclose(f);
	return s;
}

/* The last dialog description the pinentry showed ("" when none). */
static char *
last_desc(void)
{
	char *log = slurp(pe_log), *p, *last = NULL, *out;

	for (p = log; (p = strstr(p, "DESC ")) != NULL; p++)
		if (p == log || p[-1] == '\n')
			last = p + 5;
	if (last == NULL) {
		free(log);
		return strdup("");
	}
	last[strcspn(last, "\n")] = '\0';
	out = strdup(last);
	free(log);
	return out;
}

static void
pinentry_log_reset(void)
{
	(void)unlink(pe_log);
}

static int count_in(const char *path, const char *text);

/* ---- helpers over answers ------------------------------------------------ */

static uint8_t *
b64(const char *s, size_t *n)
{
	size_t cap = strlen(s);
	uint8_t *p = malloc(cap + 1);

	assert_non_null(p);
	assert_int_equal(cnie_base64_decode(s, strlen(s), p, cap + 1, n), 0);
	return p;
}

static char *
cert_of(const char *type)
{
	answer a;
	char body[64];
	char *c;

	snprintf(body, sizeof(body), "{\"type\":\"%s\"}", type);
	call(&a, CNIED_METHOD_POST, "/v1/certificate", ORIGIN, body);
	CHECK_INT(a.status, 200);
	c = strdup(str_at(a.body, "certificate"));
	answer_clear(&a);
	return c;
}

/* ---- fixtures -------------------------------------------------------------- */

static int
setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	snprintf(pe_env, sizeof(pe_env), "%s/pinentry.env", tmpdir);
	snprintf(pe_log, sizeof(pe_log), "%s/pinentry.log", tmpdir);
	snprintf(audit_path, sizeof(audit_path), "%s/audit.log", tmpdir);
	setenv("PINENTRY_SCRIPT_ENV", pe_env, 1);
	setenv("PINENTRY_SCRIPT_LOG", pe_log, 1);
	setenv("CNIE_NO_CACHE", "1", 1);
	pinentry_set("1234", "123456", false, 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.pinentry = pinentry_path;
	cfg.state_dir = tmpdir;
	cfg.refcard_dir = ec_dir;
	cfg.origins[0] = origin0;
	cfg.norigins = 1;
	cfg.request_timeout = 10;
	cfg.idle_timeout = 30;
	cfg.queue_timeout = 60;
	cfg.pin_timeout = 60;
	cfg.max_connections = 16;
	assert_int_equal(evthread_use_pthreads(), 0);
	assert_non_null(base = event_base_new());
	assert_int_equal(cnied_audit_open(audit_path), 0);
	cnied_api_init(&cfg);
	assert_int_equal(cnied_events_start(base, &cfg, NULL, NULL), 0);
	assert_int_equal(cnied_worker_start(base, &cfg), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];

	(void)state;
	cnied_worker_stop();
	cnied_events_stop();
	cnied_audit_close();
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return 0;
}

/* ---- the route table --------------------------------------------------------- */

static void
test_route_table(void **state)
{
	static const char *const paths[] = {"/v1/status", "/v1/events", "/v1/certificate",
	    "/v1/authenticate", "/v1/sign", "/v1/identity"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const cnied_route *rt = cnied_route_find(paths[i]);
		CHECK(rt != NULL);
		CHECK_STR(rt->path, paths[i]);
		/* Everything but status needs an Origin; card routes are POST only. */
		CHECK(rt->need_origin == (i != 0));
		CHECK(rt->method == (i < 2 ? CNIED_METHOD_GET : CNIED_METHOD_POST));
	}
	CHECK(cnied_route_find("/v1/nothing") == NULL);
	CHECK(cnied_route_find("/v1/status/") == NULL);
	CHECK(cnied_route_find("/V1/STATUS") == NULL);
	CHECK(cnied_route_find("") == NULL);
	CHECK(cnied_route_find(NULL) == NULL);
	CHECK_INT(cnied_route_find("/v1/sign")->op, CNIED_OP_SIGN);
}

static void
expect_error(answer *a, int status, const char *code, const char *origin)
{
	CHECK_INT(a->kind, ANS_JSON);
	CHECK_INT(a->status, status);
	CHECK_STR(err_code(a), code);
	CHECK_STR(a->origin, origin);
	answer_clear(a);
}

static void
test_route_rules(void **state)
{
	cnied_request rq;
	cnied_reply rp;
	answer a;

	(void)state;
	pinentry_log_reset();
	call(&a, CNIED_METHOD_POST, "/v1/nothing", ORIGIN, "{}");
	expect_error(&a, 404, "not-found", ORIGIN);
	call(&a, CNIED_METHOD_GET, NULL, ORIGIN, NULL);
	expect_error(&a, 404, "not-found", ORIGIN);
	call(&a, CNIED_METHOD_OTHER, "/v1/sign", ORIGIN, NULL);
	expect_error(&a, 405, "bad-request", ORIGIN);
	call(&a, CNIED_METHOD_GET, "/v1/sign", ORIGIN, NULL);
	CHECK_STR(str_at(json_object_get(a.body, "error"), "message"), "use POST");
	expect_error(&a, 405, "bad-request", ORIGIN);
	call(&a, CNIED_METHOD_POST, "/v1/status", ORIGIN, "{}");
	CHECK_STR(str_at(json_object_get(a.body, "error"), "message"), "use GET");
	expect_error(&a, 405, "bad-request", ORIGIN);
	call(&a, CNIED_METHOD_POST, "/v1/events", ORIGIN, "{}");
	expect_error(&a, 405, "bad-request", ORIGIN);
	/* No Origin: POSTs and every route but status refused, without ACAO. */
	call(&a, CNIED_METHOD_POST, "/v1/authenticate", NULL, "{}");
	expect_error(&a, 403, "origin-not-allowed", "");
	call(&a, CNIED_METHOD_GET, "/v1/events", NULL, NULL);
	expect_error(&a, 403, "origin-not-allowed", "");
	call(&a, CNIED_METHOD_GET, "/v1/certificate", NULL, NULL);
	expect_error(&a, 403, "origin-not-allowed", "");
	call(&a, CNIED_METHOD_GET, "/v1/events", ORIGIN, NULL);
	CHECK_INT(a.kind, ANS_STREAM);
	CHECK_STR(a.origin, ORIGIN);

	/* What only headers and sizes decide. */
	memset(&rq, 0, sizeof(rq));
	rp.ops = &rec_ops;
	rp.ctx = &a;
	rq.path = "/v1/authenticate";
	rq.origin = ORIGIN;
	rq.body = "{}";
	rq.body_len = 2;
	rq.method = CNIED_METHOD_POST;
	rq.content_type = "text/plain";
	memset(&a, 0, sizeof(a));
	cnied_dispatch(&rq, &rp);
	expect_error(&a, 415, "bad-request", ORIGIN);
	rq.content_type = "application/json; charset=utf-8";
	rq.body_len = CNIED_MAX_BODY + 1;
	cnied_dispatch(&rq, &rp);
	expect_error(&a, 413, "payload-too-large", ORIGIN);
	rq.body_len = 2;
	rq.has_query = true;
	cnied_dispatch(&rq, &rp);
	expect_error(&a, 404, "not-found", ORIGIN);
	rq.has_query = false;
	rq.method = CNIED_METHOD_OPTIONS;
	rq.acr_method = "POST";
	cnied_dispatch(&rq, &rp);
	CHECK_INT(a.kind, ANS_PREFLIGHT);
	CHECK_STR(a.origin, ORIGIN);
	answer_clear(&a);
	rq.acr_method = "PUT";
	cnied_dispatch(&rq, &rp);
	expect_error(&a, 403, "origin-not-allowed", "");
	rq.acr_method = "GET";
	rq.origin = NULL;
	cnied_dispatch(&rq, &rp);
	expect_error(&a, 403, "origin-not-allowed", "");
	rq.path = "/v1/nothing";
	rq.origin = ORIGIN;
	cnied_dispatch(&rq, &rp);
	expect_error(&a, 404, "not-found", ORIGIN);
	{
		char *log = slurp(pe_log);
		CHECK_STR(log, ""); /* no rule above let a request reach the card */
		free(log);
	}
}

/* ---- bodies ------------------------------------------------------------------- */

static void
test_bad_bodies(void **state)
{
	static const struct {
		const char *path, *body;
	} bad[] = {
		{"/v1/authenticate", "{"},
		{"/v1/authenticate", "[\"x\"]"},
		{"/v1/authenticate", "{\"challengeNonce\":{\"a\":{\"b\":{\"c\":{\"d\":1}}}}}"},
		{"/v1/authenticate", "{\"challengeNonce\":5}"},
		{"/v1/authenticate", "{\"challengeNonce\":\"AAAA\"}"},
		{"/v1/authenticate", "{\"challengeNonce\":\"" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		    "\",\"extra\":1}"},
		{"/v1/certificate", "{\"type\":\"other\"}"},
		{"/v1/certificate", "{\"type\":\"auth\",\"type\":\"sign\"}"},
		{"/v1/sign", "{\"hashFunction\":\"MD5\",\"hash\":\"\",\"certificate\":\"\"}"},
		{"/v1/identity", "{\"fields\":[\"mrz\",\"password\"]}"},
		{"/v1/identity", "{\"fields\":[]}"},
	};
	size_t i;
	answer a;

	(void)state;
	pinentry_log_reset();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		call(&a, CNIED_METHOD_POST, bad[i].path, ORIGIN, bad[i].body);
		expect_error(&a, 400, "bad-request", ORIGIN);
	}
	{
		char *log = slurp(pe_log);
		CHECK_STR(log, ""); /* a bad body never reaches the card */
		free(log);
	}
}

/* ---- status and certificates ---------------------------------------------------- */

static void
test_status(void **state)
{
	json_t *r0;
	answer a;

	(void)state;
	call(&a, CNIED_METHOD_GET, "/v1/status", NULL, NULL);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.origin, "");
	CHECK_STR(str_at(a.body, "version"), CNIE_VERSION);
	CHECK_STR(str_at(a.body, "transport"), "reference-card");
	CHECK_INT(json_array_size(json_object_get(a.body, "readers")), 1);
	r0 = json_array_get(json_object_get(a.body, "readers"), 0);
	CHECK_STR(str_at(r0, "name"), CNIED_REFCARD_READER);
	CHECK(json_is_true(json_object_get(r0, "card")));
	CHECK(json_object_get(a.body, "service") == NULL);
	answer_clear(&a);
	call(&a, CNIED_METHOD_GET, "/v1/status", ORIGIN, NULL);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.origin, ORIGIN);
	answer_clear(&a);
	/* A new event stream opens with the same snapshot. */
	{
		char *hello = cnied_events_hello();
		CHECK(hello != NULL);
#define DATA(state) "data: {\"reader\":\"" CNIED_REFCARD_READER "\",\"state\":\"" state "\"}"
		CHECK_STR(hello, ": cnied events\n\n"
		    "event: reader\n" DATA("added") "\n\n"
		    "event: card\n" DATA("inserted") "\n\n");
#undef DATA
		free(hello);
	}
}

static void
test_certificate(void **state)
{
	char *desc;
	json_t *algs, *e;
	size_t n, i;
	answer a;
	uint8_t *der;
	const uint8_t *p;
	X509 *x;

	(void)state;
	pinentry_log_reset();
	call(&a, CNIED_METHOD_POST, "/v1/certificate", ORIGIN, "{\"type\":\"auth\"}");
	CHECK_INT(a.status, 200);
	/* Personal data: the first request of an origin asks the holder. */
	desc = last_desc();
	CHECK(strstr(desc, ORIGIN) != NULL && strstr(desc, "national ID number") != NULL);
	free(desc);
	CHECK_INT(count_in(pe_log, "CONFIRM"), 1);
	der = b64(str_at(a.body, "certificate"), &n);
	p = der;
	x = d2i_X509(NULL, &p, (long)n);
	CHECK(x != NULL && p == der + n);
	X509_free(x);
	free(der);
	/* The EC card: ECC with SHA-256/384/512, no padding. */
	algs = json_object_get(a.body, "supportedSignatureAlgorithms");
	CHECK_INT(json_array_size(algs), 3);
	json_array_foreach(algs, i, e) {
		CHECK_STR(str_at(e, "cryptoAlgorithm"), "ECC");
		CHECK_STR(str_at(e, "paddingScheme"), "NONE");
	}
	CHECK_STR(str_at(json_array_get(algs, 0), "hashFunction"), "SHA-256");
	answer_clear(&a);
	{
		char *auth = cert_of("auth"), *sign = cert_of("sign");
		CHECK(strcmp(auth, sign) != 0);
		free(auth);
		free(sign);
	}
	CHECK_INT(count_in(pe_log, "CONFIRM"), 1); /* asked once per origin */
	pinentry_set("1234", "123456", true, 0);
	call(&a, CNIED_METHOD_POST, "/v1/certificate", "https://other.example",
	    "{\"type\":\"auth\"}");
	expect_error(&a, 400, "user-cancelled", "https://other.example");
	answer_clear(&a);
	pinentry_set("1234", "123456", false, 0);
}

/* ---- authenticate --------------------------------------------------------------- */

static int
verify_token(json_t *token, const char *origin, const char *nonce,
    cnie_webeid_nonce_store *ns)
{
	cnie_webeid_trust *trust = NULL;
	cnie_webeid_params p;
	char *text = json_dumps(token, JSON_COMPACT);
	int r;

	assert_non_null(text);
	assert_int_equal(cnie_webeid_trust_new(&trust), 0);
	assert_int_equal(cnie_webeid_trust_add_path(trust,
	    CNIE_TEST_BUILD_DIR "/cards/pki/citizen-ca.pem"), 0);
	memset(&p, 0, sizeof(p));
	p.origin = origin;
	p.nonce = nonce;
	p.nonces = ns;
	p.trust = trust;
	r = cnie_webeid_verify(text, strlen(text), &p, NULL);
	cnie_webeid_trust_free(&trust);
	free(text);
	return r;
}

static void
authenticate(answer *a, cnie_webeid_nonce_store *ns, char *nonce, size_t nmax)
{
	char body[256];

	assert_int_equal(cnie_webeid_nonce_issue(ns, 0, nonce, nmax), 0);
	snprintf(body, sizeof(body), "{\"challengeNonce\":\"%s\"}", nonce);
	call(a, CNIED_METHOD_POST, "/v1/authenticate", ORIGIN, body);
}

static void
test_authenticate(void **state)
{
	cnie_webeid_nonce_store *ns = NULL;
	char nonce[64], *desc, *audit;
	answer a;

	(void)state;
	pinentry_set("1234", "123456", false, 0);
	assert_int_equal(cnie_webeid_nonce_store_new(16, 600, &ns), 0);
	authenticate(&a, ns, nonce, sizeof(nonce));
	CHECK_INT(a.status, 200);
	CHECK_STR(a.origin, ORIGIN);
	CHECK_STR(str_at(a.body, "format"), "web-eid:1.0");
	CHECK_STR(str_at(a.body, "algorithm"), "ES256");
	CHECK_INT(json_object_size(a.body), 5);
	CHECK_INT(verify_token(a.body, ORIGIN, nonce, ns), CNIE_WEBEID_OK);
	answer_clear(&a);
	desc = last_desc();
	CHECK(strstr(desc, ORIGIN) != NULL && strstr(desc, "log you in") != NULL);
	free(desc);
	/* A token made for this origin does not verify for another one. */
	authenticate(&a, ns, nonce, sizeof(nonce));
	CHECK_INT(a.status, 200);
	CHECK_INT(verify_token(a.body, "https://other.example", nonce, ns),
	    CNIE_WEBEID_SIGNATURE_MISMATCH);
	answer_clear(&a);
	cnie_webeid_nonce_store_free(&ns);
	audit = slurp(audit_path);
	CHECK(strstr(audit, "origin=" ORIGIN " op=authenticate result=ok cert-sha256=") != NULL);
	CHECK(strstr(audit, "1234") == NULL);
	free(audit);
}

/* ---- sign ------------------------------------------------------------------------ */

static bool
ecdsa_verifies(const char *cert_b64, const uint8_t *hash, size_t hlen, const uint8_t *sig,
    size_t slen)
{
	size_t n;
	uint8_t *der = b64(cert_b64, &n), *dsig = NULL;
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)n);
	EVP_PKEY *pk = x != NULL ? X509_get0_pubkey(x) : NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	EVP_PKEY_CTX *ctx = pk != NULL ? EVP_PKEY_CTX_new(pk, NULL) : NULL;
	int dl = -1;
	bool ok = false;

	if (es != NULL && slen % 2 == 0 &&
	    ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)(slen / 2), NULL),
	    BN_bin2bn(sig + slen / 2, (int)(slen / 2), NULL)) == 1)
		dl = i2d_ECDSA_SIG(es, &dsig);
	if (ctx != NULL && dl > 0 && EVP_PKEY_verify_init(ctx) == 1)
		ok = EVP_PKEY_verify(ctx, dsig, (size_t)dl, hash, hlen) == 1;
	OPENSSL_free(dsig);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	X509_free(x);
	free(der);
	return ok;
}

static void
test_sign(void **state)
{
	char *cert = cert_of("sign"), *auth = cert_of("auth"), *hb64, body[8192], *desc;
	uint8_t digest[32], *sig;
	size_t sl;
	answer a;

	(void)state;
	pinentry_set("1234", "123456", false, 0);
	pinentry_log_reset();
	SHA256((const uint8_t *)"the document", 12, digest);
	hb64 = cnie_base64_encode(digest, sizeof(digest));
	snprintf(body, sizeof(body), "{\"certificate\":\"%s\",\"hash\":\"%s\","
	    "\"hashFunction\":\"SHA-256\"}", cert, hb64);
	call(&a, CNIED_METHOD_POST, "/v1/sign", ORIGIN, body);
	CHECK_INT(a.status, 200);
	CHECK_STR(str_at(json_object_get(a.body, "signatureAlgorithm"), "cryptoAlgorithm"), "ECC");
	CHECK_STR(str_at(json_object_get(a.body, "signatureAlgorithm"), "hashFunction"),
	    "SHA-256");
	sig = b64(str_at(a.body, "signature"), &sl);
	CHECK(ecdsa_verifies(cert, digest, sizeof(digest), sig, sl));
	CHECK(!ecdsa_verifies(auth, digest, sizeof(digest), sig, sl));
	free(sig);
	answer_clear(&a);
	{
		char *log = slurp(pe_log), *confirm = strstr(log, "\nCONFIRM\n");
		/* Consent first (naming the origin), then the PIN. */
		CHECK(confirm != NULL && strstr(confirm, "\nGETPIN\n") != NULL);
		CHECK(strstr(log, "DESC " ORIGIN " asks you to sign a document") != NULL);
		free(log);
	}
	desc = last_desc();
	CHECK(strstr(desc, "sign a document") != NULL && strstr(desc, ORIGIN) != NULL);
	free(desc);
	/* Consent denied: no signature. */
	pinentry_set("1234", "123456", true, 0);
	call(&a, CNIED_METHOD_POST, "/v1/sign", ORIGIN, body);
	expect_error(&a, 400, "user-cancelled", ORIGIN);
	pinentry_set("1234", "123456", false, 0);
	/* The authentication certificate is not the signing one. */
	snprintf(body, sizeof(body), "{\"certificate\":\"%s\",\"hash\":\"%s\","
	    "\"hashFunction\":\"SHA-256\"}", auth, hb64);
	call(&a, CNIED_METHOD_POST, "/v1/sign", ORIGIN, body);
	expect_error(&a, 400, "bad-request", ORIGIN);
	/* PSS on an EC key. */
	snprintf(body, sizeof(body), "{\"certificate\":\"%s\",\"hash\":\"%s\","
	    "\"hashFunction\":\"SHA-256\",\"paddingScheme\":\"PSS\"}", cert, hb64);
	call(&a, CNIED_METHOD_POST, "/v1/sign", ORIGIN, body);
	expect_error(&a, 400, "bad-request", ORIGIN);
	free(hb64);
	free(cert);
	free(auth);
}

/* ---- identity --------------------------------------------------------------------- */

static void
test_identity(void **state)
{
	json_t *m, *raw;
	answer a;
	char *desc;

	(void)state;
	pinentry_set("1234", "123456", false, 0);
	pinentry_log_reset();
	call(&a, CNIED_METHOD_POST, "/v1/identity", ORIGIN,
	    "{\"fields\":[\"mrz\",\"names\",\"photo\",\"raw\"],\"challenge\":\"AQIDBAUGBwg=\"}");
	CHECK_INT(a.status, 200);
	m = json_object_get(a.body, "mrz");
	CHECK_STR(str_at(m, "issuingState"), "MAR");
	CHECK_STR(str_at(m, "documentNumber"), "ZT0000001");
	CHECK_STR(str_at(m, "surname"), "BENALI");
	CHECK(str_at(json_object_get(a.body, "names"), "fullName")[0] != '\0');
	CHECK_STR(str_at(json_object_get(a.body, "photo"), "format"), "jpeg");
	raw = json_object_get(a.body, "raw");
	CHECK(json_object_get(raw, "sod") != NULL && json_object_get(raw, "com") != NULL);
	/* Every card cnie-perso makes carries DG14 and DG15 (tools/perso/lds.c):
	 * both proofs must be there, and succeed. */
	CHECK(json_object_get(json_object_get(raw, "dg"), "14") != NULL);
	CHECK(json_object_get(json_object_get(raw, "dg"), "15") != NULL);
	CHECK(json_is_true(json_object_get(json_object_get(a.body, "activeAuth"), "verified")));
	CHECK(json_is_true(json_object_get(a.body, "chipAuth")));
	answer_clear(&a);
	desc = slurp(pe_log);
	CHECK(strstr(desc, "PROMPT CAN") != NULL);
	/* The consent lists the fields in words (op_identity.c). */
	CHECK(strstr(desc, "machine-readable lines") != NULL);
	CHECK(strstr(desc, "your full name") != NULL);
	CHECK(strstr(desc, "your photo") != NULL);
	CHECK(strstr(desc, "a proof that your card is genuine") != NULL); /* a challenge */
	free(desc);
	/* Data minimisation: [mrz] answers the MRZ and the chip proof only. */
	call(&a, CNIED_METHOD_POST, "/v1/identity", ORIGIN, "{\"fields\":[\"mrz\"]}");
	CHECK_INT(a.status, 200);
	CHECK_INT(json_object_size(a.body), 3);
	CHECK(json_object_get(a.body, "mrz") != NULL && json_is_true(json_object_get(a.body,
	    "chipAuth")));
	/* The reference card's PACE offers no CAM: Chip Authentication proper. */
	CHECK(json_is_string(json_object_get(a.body, "chipAuthMethod")) &&
	    strcmp(json_string_value(json_object_get(a.body, "chipAuthMethod")), "ca") == 0);
	answer_clear(&a);
	pinentry_set("1234", "000000", false, 0);
	call(&a, CNIED_METHOD_POST, "/v1/identity", ORIGIN, "{\"fields\":[\"mrz\"]}");
	expect_error(&a, 403, "can-incorrect", ORIGIN);
	pinentry_set("1234", "123456", false, 0);
	/* The PKI application works again after the ICAO session. */
	{
		char *c = cert_of("auth");
		free(c);
	}
}

/* ---- PIN ----------------------------------------------------------------------------- */

static void
test_pin(void **state)
{
	cnie_webeid_nonce_store *ns = NULL;
	char nonce[64], *desc, *log;
	answer a;

	(void)state;
	assert_int_equal(cnie_webeid_nonce_store_new(16, 600, &ns), 0);
	/* A wrong PIN is asked again in the same request, with the tries left
	 * in SETERROR; the holder cancels: user-cancelled. */
	pinentry_log_reset();
	pinentry_wrong("9999");
	authenticate(&a, ns, nonce, sizeof(nonce));
	expect_error(&a, 400, "user-cancelled", ORIGIN);
	log = slurp(pe_log);
	CHECK_INT(count_in(pe_log, "GETPIN"), 2);
	CHECK(strstr(log, "\nERROR Wrong PIN: 2 tries left.\nGETPIN") != NULL);
	CHECK(strstr(log, "tries left before") == NULL); /* nothing known before the first try */
	free(log);
	/* The next dialog for this card shows what the card said. */
	pinentry_log_reset();
	pinentry_set("1234", "123456", false, 0);
	authenticate(&a, ns, nonce, sizeof(nonce));
	CHECK_INT(a.status, 200);
	CHECK_INT(verify_token(a.body, ORIGIN, nonce, ns), CNIE_WEBEID_OK);
	answer_clear(&a);
	desc = last_desc();
	CHECK(strstr(desc, "2 tries left before the PIN is blocked.") != NULL);
	free(desc);
	CHECK_INT(count_in(pe_log, "ERROR "), 0);
	/* Right PIN: the count is forgotten. */
	authenticate(&a, ns, nonce, sizeof(nonce));
	CHECK_INT(a.status, 200);
	answer_clear(&a);
	desc = last_desc();
	CHECK(strstr(desc, "before the PIN is blocked") == NULL);
	free(desc);
	/* A wrong PIN, then the right one: one request, a token. */
	pinentry_log_reset();
	{
		FILE *f = fopen(pe_env, "w");
		assert_non_null(f);
		fprintf(f, "PINENTRY_SCRIPT_PIN=9999\nPINENTRY_SCRIPT_RETRY_PIN=1234\n");
		fclose(f);
	}
	authenticate(&a, ns, nonce, sizeof(nonce));
	CHECK_INT(a.status, 200);
	CHECK_INT(verify_token(a.body, ORIGIN, nonce, ns), CNIE_WEBEID_OK);
	answer_clear(&a);
	CHECK_INT(count_in(pe_log, "GETPIN"), 2);
	log = slurp(pe_log);
	CHECK(strstr(log, "\nERROR Wrong PIN: 2 tries left.\nGETPIN") != NULL);
	free(log);
	pinentry_set("1234", "123456", false, 0);
	cnie_webeid_nonce_store_free(&ns);
}

/* PIN tries are kept per card: a wrong PIN on one card shows on that card only. */
static void
run_auth(cnied_card_ctx *w, char *card_dir, const char *state_name, int *tries,
    char **desc)
{
	cnied_job job;
	cnied_config c2 = cfg;

	/* Another card in the same (in-process) reader: a fresh session. */
	cnie_card_free(&w->ref_card);
	c2.refcard_dir = card_dir;
	w->cfg = &c2;
	snprintf(w->ref_state, sizeof(w->ref_state), "%s/%s", tmpdir, state_name);
	memset(&job, 0, sizeof(job));
	job.op = CNIED_OP_AUTH;
	snprintf(job.origin, sizeof(job.origin), "%s", ORIGIN);
	snprintf(job.u.auth.nonce, sizeof(job.u.auth.nonce), "%s",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	cnied_op_run(w, &job);
	/* A wrong PIN: asked again, cancelled (pinentry_wrong); the tries the card said. */
	*tries = job.err == CNIE_ERR_CANCELLED ? job.tries_left : job.err == 0 ? 99 : -99;
	json_decref(job.answer);
	cnie_card_free(&w->ref_card);
	w->cfg = &cfg;
	*desc = last_desc();
}

static void
test_tries_per_card(void **state)
{
	char *ec = ec_dir, *rsa = rsa_dir;
	cnied_card_ctx w;
	char *desc;
	int tries;

	(void)state;
	cnied_card_ctx_init(&w, &cfg);
	pinentry_wrong("9999");
	run_auth(&w, ec, "ec-state.json", &tries, &desc);
	CHECK_INT(tries, 2);
	free(desc);
	/* Card B in the same reader: its dialog shows no count. */
	pinentry_set("1234", "123456", false, 0);
	run_auth(&w, rsa, "rsa-state.json", &tries, &desc);
	CHECK_INT(tries, 99);
	CHECK(strstr(desc, "before the PIN is blocked") == NULL);
	free(desc);
	/* (A wrong PIN's run has two dialogs: the first one's text is checked.) */
	pinentry_log_reset();
	pinentry_wrong("9999");
	run_auth(&w, rsa, "rsa-state.json", &tries, &desc);
	CHECK_INT(tries, 2);
	CHECK_INT(count_in(pe_log, "before the PIN is blocked"), 0);
	free(desc);
	pinentry_log_reset();
	pinentry_wrong("0000");
	run_auth(&w, rsa, "rsa-state.json", &tries, &desc);
	CHECK_INT(tries, 1);
	CHECK_INT(count_in(pe_log, "2 tries left before the PIN is blocked."), 1);
	CHECK_INT(count_in(pe_log, "ERROR Wrong PIN. This is your last try"), 1);
	free(desc);
	/* Back to card A: its own count, not B's. */
	pinentry_set("1234", "123456", false, 0);
	run_auth(&w, ec, "ec-state.json", &tries, &desc);
	CHECK_INT(tries, 99);
	CHECK(strstr(desc, "2 tries left before the PIN is blocked.") != NULL);
	free(desc);
	/* B's count survived A's success; B's right PIN clears it. */
	run_auth(&w, rsa, "rsa-state.json", &tries, &desc);
	CHECK_INT(tries, 99);
	CHECK(strstr(desc, "1 try left before the PIN is blocked.") != NULL);
	free(desc);
	run_auth(&w, rsa, "rsa-state.json", &tries, &desc);
	CHECK(strstr(desc, "before the PIN is blocked") == NULL);
	free(desc);
	cnied_card_ctx_clear(&w);
}

/* The table itself: reader and card both make the key. */
static void
test_tries_table(void **state)
{
	cnied_tries t;
	char r[16];
	int i;

	(void)state;
	cnied_tries_init(&t);
	CHECK_INT(cnied_tries_get(&t, "Reader A", "C1"), -1);
	cnied_tries_set(&t, "Reader A", "C1", 2);
	cnied_tries_set(&t, "Reader B", "C1", 1);
	cnied_tries_set(&t, "Reader A", "C2", 0);
	CHECK_INT(cnied_tries_get(&t, "Reader A", "C1"), 2);
	CHECK_INT(cnied_tries_get(&t, "Reader B", "C1"), 1);
	CHECK_INT(cnied_tries_get(&t, "Reader A", "C2"), 0);
	CHECK_INT(cnied_tries_get(&t, "Reader B", "C2"), -1);
	cnied_tries_set(&t, "Reader A", "C1", -1);
	CHECK_INT(cnied_tries_get(&t, "Reader A", "C1"), -1);
	CHECK_INT(cnied_tries_get(&t, "Reader B", "C1"), 1);
	/* Full: the least recently set slot gives way, the others stay. */
	for (i = 0; i < CNIED_TRIES_SLOTS; i++) {
		snprintf(r, sizeof(r), "R%d", i);
		cnied_tries_set(&t, r, "C", i % 3);
	}
	CHECK_INT(cnied_tries_get(&t, "Reader B", "C1"), -1);
	CHECK_INT(cnied_tries_get(&t, "R0", "C"), 0);
	CHECK_INT(cnied_tries_get(&t, "R7", "C"), 1);
}

/* ---- busy and the error table ------------------------------------------------------ */

static bool
pinentry_asked(void)
{
	char *log = slurp(pe_log);
	bool asked = strstr(log, "GETPIN") != NULL;

	free(log);
	return asked;
}

static void
test_busy(void **state)
{
	cnie_webeid_nonce_store *ns = NULL;
	char nonce[64], n2[64], body[256];
	struct timespec ts = {0, 20000000};
	answer a, b;

	(void)state;
	assert_int_equal(cnie_webeid_nonce_store_new(16, 600, &ns), 0);
	cfg.queue_timeout = 1;
	pinentry_log_reset();
	pinentry_set("1234", "123456", false, 4);
	assert_int_equal(cnie_webeid_nonce_issue(ns, 0, nonce, sizeof(nonce)), 0);
	snprintf(body, sizeof(body), "{\"challengeNonce\":\"%s\"}", nonce);
	start(&a, CNIED_METHOD_POST, "/v1/authenticate", ORIGIN, body);
	/* Wait for the first job to hold the card (its PIN dialog is up). */
	while (!pinentry_asked())
		nanosleep(&ts, NULL);
	assert_int_equal(cnie_webeid_nonce_issue(ns, 0, n2, sizeof(n2)), 0);
	snprintf(body, sizeof(body), "{\"challengeNonce\":\"%s\"}", n2);
	start(&b, CNIED_METHOD_POST, "/v1/authenticate", ORIGIN, body);
	wait_answer(&b);
	CHECK_INT(a.calls, 0); /* the first still holds the card */
	expect_error(&b, 409, "busy", ORIGIN);
	wait_answer(&a);
	CHECK_INT(a.status, 200);
	CHECK_INT(verify_token(a.body, ORIGIN, nonce, ns), CNIE_WEBEID_OK);
	answer_clear(&a);
	cfg.queue_timeout = 60;
	pinentry_set("1234", "123456", false, 0);
	cnie_webeid_nonce_store_free(&ns);
}

/* Occurrences of text in file. */
static int
count_in(const char *path, const char *text)
{
	char *log = slurp(path), *p;
	int n = 0;

	for (p = log; (p = strstr(p, text)) != NULL; p += strlen(text))
		n++;
	free(log);
	return n;
}

/*
 * A client that leaves: its queued job never reaches the card, its open
 * dialog is closed, and both are audited as client-gone.
 */
static void
test_client_gone(void **state)
{
	struct timespec ts = {0, 20000000};
	char body[256];
	answer a, b;
	int before;

	(void)state;
	pinentry_log_reset();
	pinentry_set("1234", "123456", false, 30);
	before = count_in(audit_path, "result=client-gone");
	snprintf(body, sizeof(body), "{\"challengeNonce\":\"%s\"}",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	start(&a, CNIED_METHOD_POST, "/v1/authenticate", ORIGIN, body);
	while (!pinentry_asked())
		nanosleep(&ts, NULL);
	start(&b, CNIED_METHOD_POST, "/v1/sign", ORIGIN, "{}");
	CHECK_INT(b.calls, 1); /* a bad body: answered at once, nothing queued */
	answer_clear(&b);
	start(&b, CNIED_METHOD_POST, "/v1/certificate", ORIGIN, "{\"type\":\"auth\"}");
	CHECK(b.gone != NULL && b.calls == 0);
	b.gone(b.gone_arg); /* the second client leaves while queued */
	CHECK_INT(b.calls, 1);
	expect_error(&b, 400, "client-gone", ORIGIN);
	answer_clear(&b);
	CHECK_INT(a.calls, 0);
	CHECK(a.gone != NULL);
	a.gone(a.gone_arg); /* the first leaves during its 30 s PIN dialog */
	wait_answer(&a);
	/* Not 200: the dialog was killed before it could give the PIN. */
	expect_error(&a, 400, "client-gone", ORIGIN);
	answer_clear(&a);
	CHECK_INT(count_in(pe_log, "GETPIN"), 1);
	CHECK_INT(count_in(audit_path, "result=client-gone"), before + 2);
	pinentry_set("1234", "123456", false, 0);
	/* The next job gets its dialog again. */
	call(&a, CNIED_METHOD_POST, "/v1/authenticate", ORIGIN, body);
	CHECK_INT(a.status, 200);
	answer_clear(&a);
}

/* One authentication on card_dir with cfg's pinentry; the job's error. */
static int
auth_err(char *card_dir, const char *state_name, const char *pinentry)
{
	cnied_card_ctx w;
	cnied_job job;
	cnied_config c2 = cfg;

	c2.refcard_dir = card_dir;
	if (pinentry != NULL)
		c2.pinentry = (char *)(uintptr_t)pinentry;
	cnied_card_ctx_init(&w, &c2);
	snprintf(w.ref_state, sizeof(w.ref_state), "%s/%s", tmpdir, state_name);
	memset(&job, 0, sizeof(job));
	job.op = CNIED_OP_AUTH;
	snprintf(job.origin, sizeof(job.origin), "%s", ORIGIN);
	snprintf(job.u.auth.nonce, sizeof(job.u.auth.nonce), "%s",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	cnied_op_run(&w, &job);
	json_decref(job.answer);
	cnied_card_ctx_clear(&w);
	return job.err;
}

/* One origin cannot queue more than CNIED_MAX_QUEUED_PER_ORIGIN card requests. */
static void
test_queue_per_origin(void **state)
{
	struct timespec ts = {0, 20000000};
	char body[256];
	answer a, q[CNIED_MAX_QUEUED_PER_ORIGIN + 1], other;
	size_t i;

	(void)state;
	pinentry_log_reset();
	pinentry_set("1234", "123456", false, 30);
	snprintf(body, sizeof(body), "{\"challengeNonce\":\"%s\"}",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	start(&a, CNIED_METHOD_POST, "/v1/authenticate", ORIGIN, body);
	while (!pinentry_asked())
		nanosleep(&ts, NULL);
	for (i = 0; i <= CNIED_MAX_QUEUED_PER_ORIGIN; i++)
		start(&q[i], CNIED_METHOD_POST, "/v1/authenticate", ORIGIN, body);
	for (i = 0; i < CNIED_MAX_QUEUED_PER_ORIGIN; i++)
		CHECK_INT(q[i].calls, 0); /* waiting */
	CHECK_INT(q[i].calls, 1);	  /* one too many: busy at once */
	expect_error(&q[i], 409, "busy", ORIGIN);
	answer_clear(&q[i]);
	/* Another origin still gets in line. */
	start(&other, CNIED_METHOD_POST, "/v1/authenticate", "https://other.example", body);
	CHECK_INT(other.calls, 0);
	other.gone(other.gone_arg);
	answer_clear(&other);
	for (i = 0; i < CNIED_MAX_QUEUED_PER_ORIGIN; i++) {
		q[i].gone(q[i].gone_arg);
		CHECK_INT(q[i].calls, 1);
		answer_clear(&q[i]);
	}
	a.gone(a.gone_arg);
	wait_answer(&a);
	answer_clear(&a);
	pinentry_set("1234", "123456", false, 0);
}

/* docs/bridge-api.md: a blocked PIN gets no dialog; a broken pinentry is not a card error. */
static void
test_blocked_and_dialog(void **state)
{
	char src[400], dst[400], cmd[900];
	const char *code;
	int st;

	(void)state;
	snprintf(src, sizeof(src), "%s/state.json", blocked_dir);
	snprintf(dst, sizeof(dst), "%s/blocked-state.json", tmpdir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
	assert_int_equal(system(cmd), 0);
	pinentry_log_reset();
	pinentry_set("1234", "123456", false, 0);
	CHECK_INT(auth_err(blocked_dir, "blocked-state.json", NULL), CNIE_ERR_PIN_BLOCKED);
	CHECK_INT(count_in(pe_log, "GETPIN"), 0);
	/* Instead, what to do next (ops.c pin_blocked_advice). */
	CHECK_INT(count_in(pe_log, "MESSAGE"), 1);
	CHECK_INT(count_in(pe_log, "cnie-tool pin unblock"), 1);
	cnied_error_for(CNIE_ERR_PIN_BLOCKED, &st, &code);
	CHECK_STR(code, "pin-blocked");
	/* A pinentry that cannot run: dialog-failed, not card-error. */
	CHECK_INT(auth_err(ec_dir, "ec-dialog.json", "/nonexistent/pinentry"), CNIED_ERR_DIALOG);
	cnied_error_for(CNIED_ERR_DIALOG, &st, &code);
	CHECK_INT(st, 503);
	CHECK_STR(code, "dialog-failed");
}

static void
test_error_table(void **state)
{
	static const struct {
		int err, status;
		const char *code;
	} rows[] = {
		{CNIE_ERR_NO_SERVICE, 503, "no-service"}, {CNIE_ERR_NO_READER, 503, "no-reader"},
		{CNIE_ERR_CARD_REMOVED, 503, "no-card"}, {CNIED_ERR_MULTIPLE, 409, "multiple-cards"},
		{CNIE_ERR_PIN_BLOCKED, 403, "pin-blocked"}, {CNIE_ERR_BAC, 403, "can-incorrect"},
		{CNIE_ERR_BUSY, 409, "busy"}, {CNIE_ERR_PINPAD_TIMEOUT, 504, "timeout"},
		{CNIED_ERR_BAD_ALG, 400, "bad-request"}, {CNIE_ERR_SM, 502, "card-error"},
		{CNIED_ERR_SHUTDOWN, 503, "shutting-down"}, {CNIED_ERR_CLIENT_GONE, 400, "client-gone"},
		{CNIE_ERR_CARD_RESET, 503, "card-reset"}, {CNIE_ERR_LOGIN_LOST, 503, "card-reset"},
		{CNIE_ERR_NOT_FOUND, 422, "not-found"},
		{CNIE_ERR_CARD_NOT_RECOGNISED, 422, "card-not-recognised"},
		{CNIE_ERR_NOMEM, 500, "internal-error"}, {CNIE_ERR_PERMISSION, 503, "reader-access-denied"},
		{-99999, 502, "card-error"},
	};
	const char *code;
	size_t i;
	int st;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cnied_error_for(rows[i].err, &st, &code);
		CHECK_INT(st, rows[i].status);
		CHECK_STR(code, rows[i].code);
	}
	/* One vocabulary: a libcnie error has libcnie's code (docs/errors.md). */
	for (i = 1; i <= 200; i++) {
		cnied_error_for(-(int)i, &st, &code);
		CHECK_STR(code, cnie_error_code_name(-(int)i));
	}
	CHECK(strstr(cnied_error_message(CNIED_ERR_MULTIPLE), "\"reader\"") != NULL);
	CHECK(strstr(cnied_error_message(CNIE_ERR_CARD_RESET), "again") != NULL);
}

/* A loopback connection to a fresh listener of family af; the accepted end in *acc. */
static int
loopback_pair(int af, int *acc, pid_t *child, uid_t as_uid)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int l = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0), c;

	assert_true(l >= 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)af;
	if (af == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (bind(l, (struct sockaddr *)&ss, af == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6)) != 0) {
		close(l);
		return -1; /* no IPv6 here */
	}
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&ss, &sl), 0);
	*child = fork();
	assert_true(*child >= 0);
	if (*child == 0) {
		char b;
		if (as_uid != geteuid() && (setgid(as_uid) != 0 || setuid(as_uid) != 0))
			_exit(2);
		c = socket(af, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&ss, sl) != 0)
			_exit(3);
		(void)!read(c, &b, 1); /* holds the connection until the parent closes it */
		_exit(0);
	}
	*acc = accept(l, NULL, NULL);
	close(l);
	assert_true(*acc >= 0);
	return 0;
}

static void
test_peer_uid(void **state)
{
	static const int afs[] = {AF_INET, AF_INET6};
	uint32_t uid = 12345;
	size_t i;
	pid_t pid;
	int fd, st;

	(void)state;
	for (i = 0; i < 2; i++) {
		if (loopback_pair(afs[i], &fd, &pid, geteuid()) != 0)
			continue;
		CHECK_INT(cnied_peer_uid(fd, &uid), 0);
		CHECK_INT(uid, geteuid());
		close(fd);
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	cfg.self_uid = (uint32_t)geteuid();
	CHECK(cnied_peer_allowed(&cfg, (uint32_t)geteuid()));
	CHECK(!cnied_peer_allowed(&cfg, 65534));
	cfg.users[cfg.nusers++] = 65534;
	CHECK(cnied_peer_allowed(&cfg, 65534));
	cfg.nusers = 0;
	/* A socket that is not a connection: unknown, hence refused. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_INT(cnied_peer_uid(fd, &uid), -1);
	close(fd);
	if (geteuid() != 0) {
		/* Another user's client needs root to set up (the CI runs as root). */
		CHECK(getenv("CI") == NULL || strcmp(getenv("CI"), "true") != 0);
		return;
	}
	for (i = 0; i < 2; i++) {
		if (loopback_pair(afs[i], &fd, &pid, 65534) != 0)
			continue;
		CHECK_INT(cnied_peer_uid(fd, &uid), 0);
		CHECK_INT(uid, 65534);
		close(fd);
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_table),
		cmocka_unit_test(test_route_rules),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_tries_table),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_certificate),
		cmocka_unit_test(test_authenticate),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_tries_per_card),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_peer_uid),
		cmocka_unit_test(test_client_gone),
		cmocka_unit_test(test_blocked_and_dialog),
		cmocka_unit_test(test_queue_per_origin),
	};
	int failed = cmocka_run_group_tests(tests, setup, teardown);

	printf("%u checks\n", n_checks);
	if (n_checks == 0) {
		fprintf(stderr, "test_cnied_api: no check ran\n");
		return 1;
	}
	return failed != 0;
}
