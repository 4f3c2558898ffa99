/*
 * Passive Authentication (ICAO 9303-11 5.1, 9303-10 4.6.2, 9303-12).
 *
 * Given EF.SOD, the data groups read from the chip and a trust store of
 * CSCA certificates, checks in order:
 *   1. sod_parse   - 77 wrapper, CMS SignedData, eContentType
 *                    id-icao-mrtd-security-ldsSecurityObject
 *                    (2.23.136.1.1.1), LDSSecurityObject;
 *   2. dg_hashes   - every supplied DG's hash equals the one in EF.SOD
 *                    (constant-time compare);
 *   3. signature   - the CMS signature with the DS certificate it carries;
 *   4. ds_chain    - DS certificate → a CSCA of the trust store (signature
 *                    path; CSCA validity at the given time);
 *   5. ds_validity - the DS certificate is valid at the given time.
 * Steps 2-5 all run once step 1 passes, so the result says every way the
 * document fails, not only the first.  Pure function over bytes: no card I/O.
 */
#ifndef CNIE_PA_H
#define CNIE_PA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- trust store ------------------------------------------------------ */

typedef struct cnie_pa_trust cnie_pa_trust;

/* Returns a new empty trust store in *out (caller frees with cnie_pa_trust_free). */
CNIE_EXPORT int cnie_pa_trust_new(cnie_pa_trust **out);
CNIE_EXPORT void cnie_pa_trust_free(cnie_pa_trust **t);
/* Number of CSCA certificates held. */
CNIE_EXPORT size_t cnie_pa_trust_count(const cnie_pa_trust *t);
/* Adds one DER certificate (copied). */
CNIE_EXPORT int cnie_pa_trust_add_der(cnie_pa_trust *t, const uint8_t *p, size_t n);
/*
 * Adds the certificates of a file: PEM (one or more CERTIFICATE blocks)
 * or one DER certificate.  CNIE_ERR_IO if unreadable, CNIE_ERR_ENCODING if
 * it holds no certificate.
 */
CNIE_EXPORT int cnie_pa_trust_add_file(cnie_pa_trust *t, const char *path);
/*
 * Adds every regular file of a directory that is a certificate file (as
 * cnie_pa_trust_add_file); other files are skipped.  CNIE_ERR_NOT_FOUND if
 * no certificate was found, CNIE_ERR_IO if the directory cannot be read.
 */
CNIE_EXPORT int cnie_pa_trust_add_dir(cnie_pa_trust *t, const char *dir);
/*
 * Adds the certificates of an ICAO CSCA master list (9303-12 9: CMS
 * SignedData, eContentType 2.23.136.1.1.2, CscaMasterList { version,
 * certList SET OF Certificate }).  THE MASTER LIST'S OWN SIGNATURE IS NOT
 * VERIFIED: the caller must have obtained the file from a trusted source.
 */
CNIE_EXPORT int cnie_pa_trust_add_master_list(cnie_pa_trust *t, const uint8_t *p, size_t n);

/* ---- verification ----------------------------------------------------- */

typedef enum cnie_pa_status {
	CNIE_PA_NOT_RUN = 0, /* step not reached (EF.SOD unreadable) */
	CNIE_PA_PASS = 1,
	CNIE_PA_FAIL = 2,
} cnie_pa_status;

typedef enum cnie_pa_step {
	CNIE_PA_STEP_NONE = 0,
	CNIE_PA_STEP_SOD_PARSE,
	CNIE_PA_STEP_DG_HASHES,
	CNIE_PA_STEP_SIGNATURE,
	CNIE_PA_STEP_DS_CHAIN,
	CNIE_PA_STEP_DS_VALIDITY,
} cnie_pa_step;

typedef enum cnie_pa_dg_status {
	CNIE_PA_DG_ABSENT = 0,	    /* neither supplied nor in EF.SOD */
	CNIE_PA_DG_MATCH,	    /* supplied, hash equal */
	CNIE_PA_DG_MISMATCH,	    /* supplied, hash different: the DG was altered */
	CNIE_PA_DG_NOT_IN_SOD,	    /* supplied, but EF.SOD has no hash for it */
	CNIE_PA_DG_NOT_SUPPLIED,    /* in EF.SOD, not supplied (not read: not a failure) */
} cnie_pa_dg_status;

#define CNIE_PA_MAX_DG 16

/* One data group as read from the card (borrowed). */
typedef struct cnie_pa_dg {
	int number; /* 1..16 */
	const uint8_t *data;
	size_t len;
} cnie_pa_dg;

typedef struct cnie_pa_result {
	int verdict;		  /* 0: authentic; else the error of first_failure */
	cnie_pa_step first_failure;
	cnie_pa_status sod_parse, dg_hashes, signature, ds_chain, ds_validity;
	/* Error per step (0 when passed or not run):
	 * sod_parse: CNIE_ERR_ENCODING/TRUNCATED/TRAILING/UNSUPPORTED (hash);
	 * dg_hashes: CNIE_ERR_VERIFY_FAILED (mismatch), CNIE_ERR_NOT_FOUND (not in SOD);
	 * signature: CNIE_ERR_VERIFY_FAILED; ds_chain: CNIE_ERR_UNTRUSTED,
	 * CNIE_ERR_EXPIRED (CSCA); ds_validity: CNIE_ERR_EXPIRED (also not yet valid). */
	int sod_parse_err, dg_hashes_err, signature_err, ds_chain_err, ds_validity_err;
	cnie_pa_dg_status dg[CNIE_PA_MAX_DG + 1]; /* index = DG number; [0] unused */
	int lds_version;	  /* LDSSecurityObject version (0 or 1) */
	char hash_alg[16];	  /* e.g. "SHA256" */
	int ds_not_yet_valid;	  /* ds_validity failed because notBefore is later */
	/*
	 * sod_parse failed: what the standard's rule was (static English text,
	 * e.g. "SignedData version is not 3 (ICAO 9303-10 4.6.2)"), or NULL.
	 */
	const char *sod_detail;
} cnie_pa_result;

/*
 * Runs Passive Authentication over EF.SOD (sod[0..sod_len), with its 77
 * wrapper) and the ndgs data groups in dgs (each DG number at most once),
 * against the trust store, at time at (0: now).  Fills *res.  Returns
 * res->verdict (0 = every step passed), or CNIE_ERR_INVALID_ARG (bad
 * arguments; *res then says nothing) / CNIE_ERR_NOMEM.
 */
CNIE_EXPORT int cnie_pa_verify(const uint8_t *sod, size_t sod_len, const cnie_pa_dg *dgs,
    size_t ndgs, const cnie_pa_trust *trust, time_t at, cnie_pa_result *res);

/*
 * Writes a one-line English description of the outcome into buf (always
 * NUL-terminated), e.g. "passive authentication passed", "DG1 hash
 * mismatch", "untrusted CSCA", "DS certificate expired".  Returns buf.
 */
CNIE_EXPORT const char *cnie_pa_describe(const cnie_pa_result *res, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
