/*
 * Audit trail (--audit FILE): one line per card operation with the UTC
 * time, the origin, the operation, the result code and the SHA-256
 * fingerprint of the certificate used.  No personal data: no names, no
 * document numbers, no hashes or nonces from the page.  Loop thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cnie/buf.h>
#include <cnie/log.h>

#include "cnied.h"

static int audit_fd = -1;

int
cnied_audit_open(const char *path)
{
	if (path == NULL)
		return 0;
	audit_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return audit_fd < 0 ? -1 : 0;
}

void
cnied_audit_close(void)
{
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
}

void
cnied_audit(const char *origin, const char *op, const char *result, const uint8_t *fp32)
{
	char line[1024], ts[32], fp[65] = "-";
	struct tm tm;
	time_t now;
	int n;

	if (audit_fd < 0)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (fp32 != NULL)
		cnie_hex(fp32, 32, fp);
	n = snprintf(line, sizeof(line), "%s origin=%s op=%s result=%s cert-sha256=%s\n", ts,
	    origin != NULL ? origin : "-", op, result, fp);
	/* A line that cannot be written is said so in the log, never silently lost. */
	if (n <= 0 || (size_t)n >= sizeof(line) || write(audit_fd, line, (size_t)n) != n)
		cnie_log_error("cannot write the audit line for op=%s result=%s: %s", op, result,
		    n > 0 && (size_t)n < sizeof(line) ? strerror(errno) : "line too long");
}
