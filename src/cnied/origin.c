/*
 * Origin and Host checks.  Pure functions over untrusted header bytes
 * (fuzzed by tests/fuzz/fuzz_cnied_origin.c).
 *
 * The allowlist compares the Origin header byte for byte with configured
 * origins; the syntax check first refuses anything that is not a
 * serialised origin (RFC 6454 6.2), so that "https://a.example/",
 * "https://a.example:443x" or "null" can never match a sloppy entry.
 * The Host check defeats DNS rebinding: a page on evil.example whose name
 * later resolves to 127.0.0.1 still sends "Host: evil.example:PORT".
 */
#include <string.h>
#include <strings.h>

#include "cnied.h"

static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Digits only, 1..65535, no leading zero; 0 or -1. */
static int
parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5 || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
cnied_origin_valid(const char *s, size_t n)
{
	size_t i, host_start, host_end;
	uint16_t port;

	if (s == NULL || n == 0 || n > CNIED_MAX_ORIGIN_LEN)
		return -1;
	if (n > 8 && memcmp(s, "https://", 8) == 0)
		host_start = 8;
	else if (n > 7 && memcmp(s, "http://", 7) == 0)
		host_start = 7;
	else
		return -1;
	i = host_start;
	if (s[i] == '[') {
		/* IPv6 literal: hex digits and colons only. */
		for (i++; i < n && s[i] != ']'; i++) {
			char c = s[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':'))
				return -1;
		}
		if (i >= n || i == host_start + 1)
			return -1;
		i++;
		host_end = i;
	} else {
		for (; i < n && s[i] != ':'; i++)
			if (!host_char(s[i]))
				return -1;
		host_end = i;
		if (host_end == host_start || s[host_start] == '.' || s[host_end - 1] == '.' ||
		    s[host_start] == '-')
			return -1;
	}
	if (host_end == n)
		return 0;
	if (s[host_end] != ':')
		return -1;
	return parse_port(s + host_end + 1, n - host_end - 1, &port);
}

bool
cnied_origin_allowed(const cnied_config *cfg, const char *origin, size_t n)
{
	size_t i;

	if (cnied_origin_valid(origin, n) != 0)
		return false;
	for (i = 0; i < cfg->norigins; i++) {
		if (strlen(cfg->origins[i]) == n && memcmp(cfg->origins[i], origin, n) == 0)
			return true;
	}
	return false;
}

bool
cnied_host_allowed(const char *host, size_t n, const uint16_t *ports, size_t nports)
{
	static const char *const names[] = {"127.0.0.1:", "[::1]:", "localhost:"};
	size_t i, k;
	uint16_t port;

	if (host == NULL || n == 0 || n > 64)
		return false;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t l = strlen(names[i]);
		if (n <= l || strncasecmp(host, names[i], l) != 0)
			continue;
		if (parse_port(host + l, n - l, &port) != 0)
			return false;
		for (k = 0; k < nports; k++)
			if (ports[k] == port)
				return true;
		return false;
	}
	return false;
}
