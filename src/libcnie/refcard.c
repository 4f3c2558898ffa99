/*
 * The in-process reference card transport (include/cnie/refcard.h).  The
 * card itself, the emulator, is not part of libcnie: it lives in
 * libcnie-refcard.so.1 (drivers/emu, installed only with the "testing"
 * component), loaded here on the first cnie_refcard_open through the table
 * of src/libcnie/include/cnie/refcard_module.h.  A program that never asks
 * for the reference card never maps the emulator (nor its deterministic
 * RAND method, nor its timing model).
 *
 * Where the library is looked for, in order:
 *  1. beside libcnie (dladdr): in libcnie.so's own directory, so that an
 *     installed libcnie finds the library installed in the same libdir
 *     and, in the build tree, both sit in BUILD/lib; when libcnie is linked
 *     statically into a program (cnied), in the libdir seen from that
 *     program's bindir (CNIE_REFCARD_BIN_TO_LIB, src/libcnie/CMakeLists.txt:
 *     "../lib" for the usual layout), which keeps an install relocatable;
 *  2. the dynamic linker's search path for the bare file name (RUNPATH of
 *     the caller, LD_LIBRARY_PATH, ld.so.cache): the build tree's programs
 *     carry BUILD/lib in their RUNPATH;
 *  3. that RUNPATH again, read explicitly (open_in_runpath).
 * The handle is kept for the life of the process (never dlclose'd).
 */
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cnie/error.h>
#include <cnie/log.h>
#include <cnie/refcard.h>
#include <cnie/refcard_module.h>

static pthread_once_t module_once = PTHREAD_ONCE_INIT;
static const cnie_refcard_module *module;
static char module_error[512];

/*
 * The libdir libcnie lives in: the directory of libcnie.so, or, linked
 * statically into a program, the program's directory + CNIE_REFCARD_BIN_TO_LIB.
 */
static int
own_libdir(char *out, size_t cap)
{
	char exe[PATH_MAX];
	Dl_info info;
	const char *slash;
	ssize_t len;
	int n;

	if (dladdr((void *)own_libdir, &info) != 0 && info.dli_fname != NULL &&
	    (slash = strrchr(info.dli_fname, '/')) != NULL &&
	    strncmp(slash + 1, "libcnie.so", strlen("libcnie.so")) == 0) {
		n = snprintf(out, cap, "%.*s", (int)(slash - info.dli_fname), info.dli_fname);
		return n > 0 && (size_t)n < cap ? 0 : CNIE_ERR_TOO_LONG;
	}
	/* Linked into the program: the kernel's name for it, not argv[0]. */
	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return CNIE_ERR_NOT_FOUND;
	exe[len] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return CNIE_ERR_NOT_FOUND;
	n = snprintf(out, cap, "%.*s/%s", (int)(slash - exe), exe, CNIE_REFCARD_BIN_TO_LIB);
	return n > 0 && (size_t)n < cap ? 0 : CNIE_ERR_TOO_LONG;
}

static void *
open_in(const char *dir)
{
	char path[PATH_MAX + sizeof(CNIE_REFCARD_LIBRARY) + 1];
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, CNIE_REFCARD_LIBRARY);
	if (n <= 0 || (size_t)n >= sizeof(path))
		return NULL;
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

/*
 * The directories of the RUNPATH (and LD_LIBRARY_PATH) of the object this
 * code is in, as the dynamic linker lists them (RTLD_DI_SERINFO): asked
 * explicitly because a sanitizer runtime that intercepts dlopen() makes
 * itself the caller whose RUNPATH a bare name is searched with.
 */
static void *
open_in_runpath(void)
{
	/* On the stack: the one-time load does not depend on malloc succeeding. */
	union {
		Dl_serinfo si;
		char bytes[8192];
	} u;
	Dl_serinfo size;
	struct link_map *map = NULL;
	Dl_info info;
	unsigned i;
	void *h = NULL;

	if (dladdr1((void *)open_in_runpath, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 ||
	    map == NULL || dlinfo(map, RTLD_DI_SERINFOSIZE, &size) != 0 ||
	    size.dls_size < sizeof(size) || size.dls_size > sizeof(u))
		return NULL;
	u.si.dls_size = size.dls_size;
	u.si.dls_cnt = size.dls_cnt;
	if (dlinfo(map, RTLD_DI_SERINFO, &u.si) != 0)
		return NULL;
	for (i = 0; i < u.si.dls_cnt && h == NULL; i++)
		if (u.si.dls_serpath[i].dls_name != NULL && u.si.dls_serpath[i].dls_name[0] == '/')
			h = open_in(u.si.dls_serpath[i].dls_name);
	return h;
}

static void *
open_library(void)
{
	char dir[PATH_MAX], why[256];
	const char *e;
	void *h;

	if (own_libdir(dir, sizeof(dir)) == 0 && (h = open_in(dir)) != NULL)
		return h;
	if ((h = dlopen(CNIE_REFCARD_LIBRARY, RTLD_NOW | RTLD_LOCAL)) != NULL)
		return h;
	e = dlerror();
	snprintf(why, sizeof(why), "%s", e != NULL ? e : "not found");
	if ((h = open_in_runpath()) != NULL)
		return h;
	snprintf(module_error, sizeof(module_error),
	    "the reference card needs %s, which is not installed (it is part of the "
	    "testing component: cmake --install BUILD --component testing, or the "
	    "distribution's cnie testing package): %s",
	    CNIE_REFCARD_LIBRARY, why);
	return NULL;
}

static void
load_module(void)
{
	cnie_refcard_module_fn entry;
	const cnie_refcard_module *m;
	void *h;

	if ((h = open_library()) == NULL)
		return;
	/* POSIX: the object pointer dlsym returns is converted to the function type. */
	*(void **)&entry = dlsym(h, CNIE_REFCARD_ENTRY);
	if (entry == NULL || (m = entry()) == NULL || m->abi != CNIE_REFCARD_ABI) {
		snprintf(module_error, sizeof(module_error),
		    "%s does not match this libcnie (entry %s, table version %d)",
		    CNIE_REFCARD_LIBRARY, CNIE_REFCARD_ENTRY, CNIE_REFCARD_ABI);
		dlclose(h);
		return;
	}
	module = m;
}

/* The module's messages, formatted by its own copy of the log code, go out through ours. */
static void
forward_log(cnie_log_level level, const char *line, void *arg)
{
	(void)arg;
	cnie_log_msg(level, "refcard", "%s", line);
}

struct refcard {
	void *card;
	uint8_t atr[33];
	size_t atr_len;
	bool contactless;
};

static int
rc_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	struct refcard *rc = ctx;

	if (*resp_len < module->max_resp)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	return module->transmit(rc->card, cmd, n, resp, resp_len);
}

static int
rc_reset(void *ctx, bool unpower)
{
	struct refcard *rc = ctx;

	(void)unpower; /* the emulator has no warm reset distinct from power-up */
	module->power_off(rc->card);
	rc->atr_len = sizeof(rc->atr);
	return module->power_on(rc->card, rc->contactless, rc->atr, &rc->atr_len);
}

static int
rc_reconnect(void *ctx)
{
	(void)ctx;
	return 0;
}

static int
rc_atr(void *ctx, uint8_t *atr, size_t *n)
{
	struct refcard *rc = ctx;

	if (*n < rc->atr_len)
		return CNIE_ERR_BUFFER_TOO_SMALL;
	memcpy(atr, rc->atr, rc->atr_len);
	*n = rc->atr_len;
	return 0;
}

static void
rc_free(void *ctx)
{
	struct refcard *rc = ctx;

	if (rc == NULL)
		return;
	if (rc->card != NULL) {
		module->power_off(rc->card);
		module->close(rc->card);
	}
	free(rc);
}

static const cnie_transport_ops refcard_ops = {
	.transmit = rc_transmit,
	.reset = rc_reset,
	.reconnect = rc_reconnect,
	.atr = rc_atr,
	.free = rc_free,
};

int
cnie_refcard_open(const char *card_dir, const char *state_path, bool contactless,
    cnie_transport **out)
{
	struct refcard *rc = NULL;
	cnie_transport_caps caps;
	int r;

	if (card_dir == NULL || out == NULL)
		return CNIE_ERR_INVALID_ARG;
	*out = NULL;
	(void)pthread_once(&module_once, load_module);
	if (module == NULL) {
		cnie_log_error("%s", module_error);
		return CNIE_ERR_UNSUPPORTED;
	}
	module->set_log(cnie_log_get_level(), forward_log, NULL);
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return CNIE_ERR_NOMEM;
	rc->contactless = contactless;
	if ((r = module->open(card_dir, state_path, &rc->card)) != 0)
		goto out;
	rc->atr_len = sizeof(rc->atr);
	if ((r = module->power_on(rc->card, contactless, rc->atr, &rc->atr_len)) != 0)
		goto out;
	/* In process there is no reader in the way: extended length end to end. */
	memset(&caps, 0, sizeof(caps));
	caps.max_cmd = CNIE_MAX_COMMAND;
	caps.max_resp = CNIE_MAX_RESPONSE;
	caps.extended = true;
	caps.contactless = contactless;
	r = cnie_transport_new(&refcard_ops, rc, &caps,
	    contactless ? "CNIE Reference Card (contactless)" : "CNIE Reference Card", out);
	rc = NULL; /* owned by the transport, or freed by it on failure */
out:
	if (rc != NULL)
		rc_free(rc);
	return r;
}
