/*
 * Logging: levels, to stderr (default) or syslog, and the APDU trace.
 *
 * Environment:
 *   CNIE_LOG=error|warn|info|debug|trace   level (default: warn)
 *   CNIE_LOG_SYSLOG=1                      log to syslog instead of stderr
 *   CNIE_APDU_TRACE=1                      log every APDU at trace level:
 *                                          command headers and non-secret
 *                                          bodies, response lengths and SW
 *   CNIE_APDU_TRACE=full                   also response data (developers
 *                                          only: may hold personal data);
 *                                          secrets stay masked
 *
 * No personal data and no secret is ever passed to these functions: the
 * APDU trace masks the bodies of VERIFY, CHANGE REFERENCE DATA, RESET
 * RETRY COUNTER, and any command or response flagged as sensitive
 * (PACE, secure messaging payloads, identity data).
 */
#ifndef CNIE_LOG_H
#define CNIE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cnie/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnie_log_level {
	CNIE_LOG_NONE = 0,
	CNIE_LOG_ERROR = 1,
	CNIE_LOG_WARN = 2,
	CNIE_LOG_INFO = 3,
	CNIE_LOG_DEBUG = 4,
	CNIE_LOG_TRACE = 5,
} cnie_log_level;

/* Receives each formatted line (no trailing newline). */
typedef void (*cnie_log_sink)(cnie_log_level level, const char *line, void *arg);

/* Sets the level; overrides CNIE_LOG. */
CNIE_EXPORT void cnie_log_set_level(cnie_log_level level);
CNIE_EXPORT cnie_log_level cnie_log_get_level(void);
/* Routes log lines to sink (NULL restores stderr/syslog). */
CNIE_EXPORT void cnie_log_set_sink(cnie_log_sink sink, void *arg);
/* Uses syslog (ident is kept by reference) instead of stderr. */
CNIE_EXPORT void cnie_log_use_syslog(const char *ident);
/* True when APDUs are traced (CNIE_APDU_TRACE set, or enabled here). */
CNIE_EXPORT bool cnie_log_apdu_enabled(void);
CNIE_EXPORT void cnie_log_set_apdu_trace(bool on);

CNIE_EXPORT void cnie_log_msg(cnie_log_level level, const char *func, const char *fmt, ...)
    CNIE_PRINTF(3, 4);
CNIE_EXPORT void cnie_log_vmsg(cnie_log_level level, const char *func, const char *fmt,
    va_list ap) CNIE_PRINTF(3, 0);

/* APDU trace flags. */
#define CNIE_TRACE_MASK_BODY 0x01 /* never print the data field */

/*
 * Logs one command (dir '>') or response (dir '<') at trace level when the
 * trace is enabled.  For commands, the bodies of VERIFY (20, 21), CHANGE
 * REFERENCE DATA (24), DISABLE/ENABLE VERIFICATION REQUIREMENT (26, 28) and
 * RESET RETRY COUNTER (2C) are always masked.
 */
CNIE_EXPORT void cnie_log_apdu(char dir, const uint8_t *p, size_t n, unsigned flags);

#define CNIE_LOG_AT(lvl, ...)                                                  \
	do {                                                                   \
		if (cnie_log_get_level() >= (lvl))                             \
			cnie_log_msg((lvl), __func__, __VA_ARGS__);            \
	} while (0)

#define cnie_log_error(...) CNIE_LOG_AT(CNIE_LOG_ERROR, __VA_ARGS__)
#define cnie_log_warn(...) CNIE_LOG_AT(CNIE_LOG_WARN, __VA_ARGS__)
#define cnie_log_info(...) CNIE_LOG_AT(CNIE_LOG_INFO, __VA_ARGS__)
#define cnie_log_debug(...) CNIE_LOG_AT(CNIE_LOG_DEBUG, __VA_ARGS__)
#define cnie_log_trace(...) CNIE_LOG_AT(CNIE_LOG_TRACE, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
