/*
 * The bridge's TLS identity.
 *
 * On first start: a local CA (EC P-256) whose critical name constraints
 * permit only DNS:localhost, IP 127.0.0.1/32 and IP ::1/128, so that even
 * a stolen CA could not vouch for any other name (RFC 5280 4.2.1.10); it
 * signs one server certificate (SAN localhost, 127.0.0.1, ::1); then the
 * CA private key is freed without ever being written anywhere.  Nothing
 * here is publicly trusted: a publicly trusted certificate for a loopback
 * name would have its key shipped to every machine, hence to attackers.
 * server.key is created 0600 through a fresh temporary file.
 *
 * Renewal: at start and twice a day (cnied_tls_refresh), the identity is
 * checked: files missing or unreadable, the key not matching, the server
 * certificate not issued by ca.pem, either certificate not yet valid or
 * within CNIED_TLS_RENEW_DAYS of its end (or past it).  Any of these makes
 * a new CA and server certificate (the old CA key no longer exists, so the
 * CA is new too) and logs why; an expired certificate is never served.
 * Browsers must then trust the new CA: cnied cannot write their databases
 * (ProtectHome=read-only), `cnie-tool bridge trust` does, and `cnie-tool
 * bridge status` and doctor say when it is needed.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cnie/log.h>

#include "cnied.h"

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int r;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	r = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return r;
}

static X509 *
new_cert(EVP_PKEY *key, const char *cn, long days)
{
	X509 *c = X509_new();
	X509_NAME *name;
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;

	if (c == NULL || bn == NULL)
		goto fail;
	if (X509_set_version(c, 2) != 1 || BN_rand(bn, 127, BN_RAND_TOP_ANY,
	    BN_RAND_BOTTOM_ANY) != 1)
		goto fail;
	if ((serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_set_serialNumber(c, serial) != 1)
		goto fail;
	if (X509_gmtime_adj(X509_getm_notBefore(c), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(c), days * 86400L) == NULL)
		goto fail;
	if (X509_set_pubkey(c, key) != 1)
		goto fail;
	name = X509_get_subject_name(c);
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"CNIE local bridge", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
	    -1, -1, 0) != 1)
		goto fail;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return c;
fail:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_free(c);
	return NULL;
}

/* A temporary file (mkostemp: O_EXCL, never a planted name) renamed over path. */
static int
write_file(const char *path, int mode, X509 *c1, X509 *c2, EVP_PKEY *key)
{
	char tmp[4096];
	const char *slash = strrchr(path, '/');
	FILE *f;
	int fd, ok;

	if (slash == NULL || (size_t)snprintf(tmp, sizeof(tmp), "%.*s/.tls.XXXXXX",
	    (int)(slash - path), path) >= sizeof(tmp))
		return -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* The certificates are public (0644 whatever the umask); the key 0600. */
	(void)fchmod(fd, (mode_t)mode);
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	ok = 1;
	if (key != NULL)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (ok && c1 != NULL)
		ok = PEM_write_X509(f, c1);
	if (ok && c2 != NULL)
		ok = PEM_write_X509(f, c2);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

static int
create_identity(const char *dir, const char *ca_path, const char *cert_path,
    const char *key_path)
{
	EVP_PKEY *ca_key = NULL, *srv_key = NULL;
	X509 *ca = NULL, *srv = NULL;
	int r = -1;

	ca_key = EVP_EC_gen("P-256");
	srv_key = EVP_EC_gen("P-256");
	if (ca_key == NULL || srv_key == NULL)
		goto out;
	if ((ca = new_cert(ca_key, "CNIE local bridge CA (this machine only)", 3650)) == NULL)
		goto out;
	if (X509_set_issuer_name(ca, X509_get_subject_name(ca)) != 1 ||
	    add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
	    add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(ca, ca, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(ca, ca, NID_name_constraints,
	    "critical,permitted;DNS:localhost,permitted;IP:127.0.0.1/255.255.255.255,"
	    "permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") != 0)
		goto out;
	if (X509_sign(ca, ca_key, EVP_sha256()) == 0)
		goto out;
	if ((srv = new_cert(srv_key, "localhost", 825)) == NULL)
		goto out;
	if (X509_set_issuer_name(srv, X509_get_subject_name(ca)) != 1 ||
	    add_ext(srv, ca, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(srv, ca, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(srv, ca, NID_ext_key_usage, "serverAuth") != 0 ||
	    add_ext(srv, ca, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") != 0 ||
	    add_ext(srv, ca, NID_authority_key_identifier, "keyid:always") != 0)
		goto out;
	if (X509_sign(srv, ca_key, EVP_sha256()) == 0)
		goto out;
	/* The CA key dies here: it is never written (EVP_PKEY_free wipes it). */
	EVP_PKEY_free(ca_key);
	ca_key = NULL;
	if (write_file(key_path, 0600, NULL, NULL, srv_key) != 0 ||
	    write_file(cert_path, 0644, srv, ca, NULL) != 0 ||
	    write_file(ca_path, 0644, ca, NULL, NULL) != 0) {
		cnie_log_error("cannot write the TLS files in %s: %s", dir, strerror(errno));
		goto out;
	}
	cnie_log_info("created the local CA and server certificate in %s", dir);
	r = 0;
out:
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	X509_free(ca);
	X509_free(srv);
	return r;
}

static X509 *
read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c;

	if (f == NULL)
		return NULL;
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return c;
}

/* Days (rounded down) from now to t; INT32_MIN when t cannot be read. */
static int
days_to(const ASN1_TIME *t)
{
	int days, secs;

	if (t == NULL || ASN1_TIME_diff(&days, &secs, NULL, t) != 1)
		return INT32_MIN;
	/* Both have t's sign: past t is negative, at least -1. */
	if (days < 0 || secs < 0)
		return days < 0 ? days : -1;
	return days;
}

/* NULL when the identity in the state dir is good to serve, else why not. */
static const char *
identity_problem(const char *ca_path, const char *cert_path, const char *key_path,
    char *why, size_t max)
{
	X509 *ca = NULL, *srv = NULL;
	EVP_PKEY *key = NULL;
	FILE *f;
	const char *r = why;
	int d_ca, d_srv;

	if (access(ca_path, F_OK) != 0 || access(cert_path, F_OK) != 0 ||
	    access(key_path, F_OK) != 0) {
		snprintf(why, max, "missing");
		return r;
	}
	ca = read_cert(ca_path);
	srv = read_cert(cert_path);
	if ((f = fopen(key_path, "r")) != NULL) {
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	ERR_clear_error();
	if (ca == NULL || srv == NULL || key == NULL) {
		snprintf(why, max, "unreadable (corrupt)");
		goto out;
	}
	if (X509_check_private_key(srv, key) != 1 || X509_verify(srv, X509_get0_pubkey(ca)) != 1) {
		ERR_clear_error();
		snprintf(why, max, "the key or the CA does not match the server certificate");
		goto out;
	}
	d_ca = days_to(X509_get0_notAfter(ca));
	d_srv = days_to(X509_get0_notAfter(srv));
	if (X509_cmp_current_time(X509_get0_notBefore(ca)) > 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(srv)) > 0) {
		snprintf(why, max, "not valid yet (clock change?)");
		goto out;
	}
	if (d_ca < 0 || d_srv < 0) {
		snprintf(why, max, "expired");
		goto out;
	}
	if (d_ca < CNIED_TLS_RENEW_DAYS || d_srv < CNIED_TLS_RENEW_DAYS) {
		snprintf(why, max, "expires in %d days", d_ca < d_srv ? d_ca : d_srv);
		goto out;
	}
	r = NULL;
out:
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(key);
	return r;
}

/* Paths of the three files; 0 or -1. */
static int
paths(const char *state_dir, char *ca_path, char *cert_path, char *key_path, size_t max)
{
	if ((size_t)snprintf(ca_path, max, "%s/ca.pem", state_dir) >= max ||
	    (size_t)snprintf(cert_path, max, "%s/server.pem", state_dir) >= max ||
	    (size_t)snprintf(key_path, max, "%s/server.key", state_dir) >= max)
		return -1;
	return 0;
}

/* A new identity when the present one is not good to serve; 1 renewed, 0 kept, -1. */
static int
renew_if_needed(const char *state_dir, const char *ca_path, const char *cert_path,
    const char *key_path)
{
	char why[128];

	if (identity_problem(ca_path, cert_path, key_path, why, sizeof(why)) == NULL)
		return 0;
	if (strcmp(why, "missing") != 0)
		cnie_log_warn("the local CA / server certificate in %s: %s: making new ones; "
		    "browsers must trust the new CA: run `cnie-tool bridge trust`", state_dir, why);
	if (create_identity(state_dir, ca_path, cert_path, key_path) != 0)
		return -1;
	return 1;
}

static int
load_identity(SSL_CTX *ctx, const char *cert_path, const char *key_path)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		cnie_log_error("cannot load %s / %s", cert_path, key_path);
		return -1;
	}
	return 0;
}

int
cnied_tls_refresh(const char *state_dir, SSL_CTX *ctx)
{
	char ca_path[4096], cert_path[4096], key_path[4096];
	int r;

	if (paths(state_dir, ca_path, cert_path, key_path, sizeof(ca_path)) != 0)
		return -1;
	if ((r = renew_if_needed(state_dir, ca_path, cert_path, key_path)) <= 0)
		return r;
	/* New connections get the new certificate; open ones keep theirs. */
	return load_identity(ctx, cert_path, key_path) == 0 ? 1 : -1;
}

int
cnied_tls_init(const char *state_dir, SSL_CTX **out)
{
	char ca_path[4096], cert_path[4096], key_path[4096];
	SSL_CTX *ctx = NULL;
	struct stat st;

	*out = NULL;
	if (paths(state_dir, ca_path, cert_path, key_path, sizeof(ca_path)) != 0)
		return -1;
	if (renew_if_needed(state_dir, ca_path, cert_path, key_path) < 0)
		return -1;
	if (stat(key_path, &st) == 0 && (st.st_mode & 077) != 0) {
		cnie_log_warn("%s is readable by others: fixing its mode", key_path);
		(void)chmod(key_path, 0600);
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return -1;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1)
		goto fail;
	if (load_identity(ctx, cert_path, key_path) != 0)
		goto fail;
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -1;
}
