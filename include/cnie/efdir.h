/*
 * Public API.  EF.DIR (ISO/IEC 7816-4 8.2.1.1): the application templates
 * of a card, as cnie_card_applications (cnie/card.h) returns them.  A pure
 * parser over the file's bytes; the input rules are those of the PKCS#15
 * parsers (src/libcnie/include/cnie/pkcs15.h): BER, '00'/'FF' padding
 * skipped, unknown top-level objects skipped, every field bounded.
 */
#ifndef CNIE_EFDIR_H
#define CNIE_EFDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CNIE_P15_MAX_OBJECTS 32	    /* top-level objects per file */
#define CNIE_P15_MAX_LABEL 255	    /* bytes of a label (UTF-8) */
#define CNIE_P15_MAX_PATH 16	    /* bytes of a path (8 file ids) */
#define CNIE_P15_MAX_AID 16	    /* ISO/IEC 7816-4: AIDs are 5..16 bytes */

/* Application template '61': AID '4F', label '50', path '51', DDO '73'. */
typedef struct cnie_p15_app {
	uint8_t aid[CNIE_P15_MAX_AID];
	size_t aid_len;				/* 1..16 */
	char label[CNIE_P15_MAX_LABEL + 1];
	uint8_t path[CNIE_P15_MAX_PATH];
	size_t path_len;			/* 0: absent */
	bool has_ddo;				/* discretionary data '73' present */
} cnie_p15_app;

typedef struct cnie_p15_dir {
	size_t count;
	cnie_p15_app apps[CNIE_P15_MAX_OBJECTS];
} cnie_p15_dir;

/* Parses EF.DIR (other top-level objects than '61' are skipped); *out is the caller's. */
CNIE_EXPORT int cnie_p15_dir_parse(const uint8_t *p, size_t n, cnie_p15_dir **out);
CNIE_EXPORT void cnie_p15_dir_free(cnie_p15_dir **dir);
/* Finds the application with exactly this AID; *app is borrowed from dir. CNIE_ERR_NOT_FOUND. */
CNIE_EXPORT int cnie_p15_dir_find(const cnie_p15_dir *dir, const uint8_t *aid, size_t aid_len,
    const cnie_p15_app **app);

#ifdef __cplusplus
}
#endif

#endif
