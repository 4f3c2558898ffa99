/* Logging and the masked APDU trace: see include/cnie/log.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <cnie/buf.h>
#include <cnie/log.h>

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static atomic_int log_level = CNIE_LOG_WARN;
static atomic_bool apdu_trace;
/* CNIE_APDU_TRACE=full also shows response data (may hold personal data). */
static atomic_bool apdu_trace_full;
static atomic_bool use_syslog;
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static cnie_log_sink sink_fn;
static void *sink_arg;

static const char *const level_names[] = { "none", "error", "warn", "info", "debug",
	"trace" };

static void
log_init(void)
{
	const char *v;
	int i;

	if ((v = getenv("CNIE_LOG")) != NULL) {
		for (i = 0; i <= CNIE_LOG_TRACE; i++)
			if (strcasecmp(v, level_names[i]) == 0)
				atomic_store(&log_level, i);
	}
	if ((v = getenv("CNIE_APDU_TRACE")) != NULL && *v != '\0' && strcmp(v, "0") != 0) {
		atomic_store(&apdu_trace, true);
		atomic_store(&apdu_trace_full, strcmp(v, "full") == 0);
		/* The trace is written at trace level: make sure it shows. */
		atomic_store(&log_level, CNIE_LOG_TRACE);
	}
	if ((v = getenv("CNIE_LOG_SYSLOG")) != NULL && strcmp(v, "1") == 0)
		atomic_store(&use_syslog, true);
}

void
cnie_log_set_level(cnie_log_level level)
{
	pthread_once(&log_once, log_init);
	if (level >= CNIE_LOG_NONE && level <= CNIE_LOG_TRACE)
		atomic_store(&log_level, (int)level);
}

cnie_log_level
cnie_log_get_level(void)
{
	pthread_once(&log_once, log_init);
	return (cnie_log_level)atomic_load(&log_level);
}

void
cnie_log_set_sink(cnie_log_sink sink, void *arg)
{
	pthread_mutex_lock(&sink_lock);
	sink_fn = sink;
	sink_arg = arg;
	pthread_mutex_unlock(&sink_lock);
}

void
cnie_log_use_syslog(const char *ident)
{
	pthread_once(&log_once, log_init);
	openlog(ident != NULL ? ident : "cnie", LOG_PID, LOG_DAEMON);
	atomic_store(&use_syslog, true);
}

bool
cnie_log_apdu_enabled(void)
{
	pthread_once(&log_once, log_init);
	return atomic_load(&apdu_trace);
}

void
cnie_log_set_apdu_trace(bool on)
{
	pthread_once(&log_once, log_init);
	atomic_store(&apdu_trace, on);
	if (on && atomic_load(&log_level) < CNIE_LOG_TRACE)
		atomic_store(&log_level, CNIE_LOG_TRACE);
}

static int
syslog_prio(cnie_log_level level)
{
	switch (level) {
	case CNIE_LOG_ERROR: return LOG_ERR;
	case CNIE_LOG_WARN: return LOG_WARNING;
	case CNIE_LOG_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

void
cnie_log_vmsg(cnie_log_level level, const char *func, const char *fmt, va_list ap)
{
	char line[2048];
	int off;

	if (level <= CNIE_LOG_NONE || level > cnie_log_get_level())
		return;
	off = snprintf(line, sizeof(line), "%s: ", func != NULL ? func : "cnie");
	if (off < 0 || (size_t)off >= sizeof(line))
		off = 0;
	vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);

	pthread_mutex_lock(&sink_lock);
	if (sink_fn != NULL)
		sink_fn(level, line, sink_arg);
	else if (atomic_load(&use_syslog))
		syslog(syslog_prio(level), "%s", line);
	else
		fprintf(stderr, "cnie[%s] %s\n", level_names[level], line);
	pthread_mutex_unlock(&sink_lock);
}

void
cnie_log_msg(cnie_log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cnie_log_vmsg(level, func, fmt, ap);
	va_end(ap);
}

/*
 * INS codes whose command body is a PIN, PUK or other reference data
 * (ISO/IEC 7816-4:2013 clause 11.5): VERIFY (20, 21), CHANGE REFERENCE
 * DATA (24), ENABLE and DISABLE VERIFICATION REQUIREMENT (28, 26: their
 * data field may hold verification data) and RESET RETRY COUNTER (2C).
 */
static bool
ins_is_secret(uint8_t ins)
{
	return ins == 0x20 || ins == 0x21 || ins == 0x24 || ins == 0x26 || ins == 0x28 ||
	    ins == 0x2c;
}

void
cnie_log_apdu(char dir, const uint8_t *p, size_t n, unsigned flags)
{
	char hex[2 * 64 + 1];
	bool mask;
	size_t show;

	if (!cnie_log_apdu_enabled() || p == NULL)
		return;
	mask = (flags & CNIE_TRACE_MASK_BODY) != 0;
	if (dir == '>') {
		/* Command: header always visible, body masked when secret. */
		if (n >= 2 && ins_is_secret(p[1]))
			mask = true;
		show = n < 4 ? n : 4;
		if (!mask && n > 4)
			show = n;
		if (show > 64)
			show = 64;
		cnie_hex(p, show, hex);
		cnie_log_msg(CNIE_LOG_TRACE, "apdu", "> %s%s (%zu bytes)", hex,
		    mask && n > 4 ? " [body masked]" : (show < n ? "..." : ""), n);
	} else {
		/* Response: the status word is always visible. */
		if (n < 2) {
			cnie_hex(p, n, hex);
			cnie_log_msg(CNIE_LOG_TRACE, "apdu", "< %s (short response)", hex);
			return;
		}
		if (mask || !atomic_load(&apdu_trace_full)) {
			cnie_hex(p + n - 2, 2, hex);
			cnie_log_msg(CNIE_LOG_TRACE, "apdu", "< [%zu data bytes masked] %s",
			    n - 2, hex);
			return;
		}
		show = n > 64 ? 64 : n;
		cnie_hex(p, show, hex);
		cnie_log_msg(CNIE_LOG_TRACE, "apdu", "< %s%s (%zu bytes)", hex,
		    show < n ? "..." : "", n);
	}
}
