/*
 * cnie-tool register|unregister [--module PATH]
 * cnie-tool register|unregister --system [--module PATH] [--policies FILE]
 *
 * Debian's NSS does not load p11-kit-proxy, so Firefox and Chromium see
 * the card only once the module is in their own databases (as OpenSC's
 * pkcs11-register does).  register adds cnie-pkcs11.so, by absolute path,
 * to every NSS database of the user (nssdb.h) with modutil, and says what
 * it changed; unregister removes it.  Snap and flatpak Firefox cannot load
 * a module of the host (nssdb.c says why): they are reported, not changed.
 * --system writes the Firefox enterprise policy SecurityDevices for all
 * users (/etc/firefox/policies/policies.json), merged into what is there.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cnie_tool.h"
#include "nssdb.h"

#define MODULE_NAME "CNIE"
#define POLICIES_FILE "/etc/firefox/policies/policies.json"
/* A policies file is a few kilobytes; refuse to rewrite anything larger. */
#define POLICIES_MAX (1024 * 1024)

typedef struct reg_out {
	cnie_tool *tool;
	json_t *dbs;	  /* [{path, browser, result, detail?}] */
	int changed;
	int failed;
} reg_out;

/* A result (the --json word) as a label for a person. */
static const char *
result_text(const char *result)
{
	/* TRANSLATORS: the result of register/unregister for one browser profile,
	 * shown as a label at the start of the line. */
	if (strcmp(result, "registered") == 0)
		return _("registered");
	if (strcmp(result, "removed") == 0)
		return _("removed");
	if (strcmp(result, "unchanged") == 0)
		return _("unchanged");
	if (strcmp(result, "skipped") == 0)
		return _("skipped");
	if (strcmp(result, "FAILED") == 0)
		return _("FAILED");
	return result;
}

static void
report(reg_out *o, const cnie_tool_nssdb *db, const char *result, const char *detail)
{
	json_t *j = json_pack("{s:s,s:s,s:s}", "path", db->dir, "browser",
	    cnie_tool_nssdb_kind_name(db->kind), "result", result);

	if (j != NULL && detail != NULL)
		json_object_set_new(j, "detail", json_string(detail));
	if (j != NULL)
		json_array_append_new(o->dbs, j);
	/* detail: an N_() sentence (translated here) or a path (as is). */
	if (!o->tool->json)
		printf("%-11s %s (%s)%s%s\n", result_text(result), db->shown,
		    cnie_tool_nssdb_kind_name(db->kind), detail != NULL ? ": " : "",
		    detail != NULL ? gettext(detail) : "");
}

static int
modutil(const char *op, const cnie_tool_nssdb *db, const char *name, const char *module)
{
	char dbarg[1100];
	const char *add[] = { "modutil", "-dbdir", dbarg, "-add", name, "-libfile", module,
		"-force", NULL };
	const char *del[] = { "modutil", "-dbdir", dbarg, "-delete", name, "-force", NULL };

	snprintf(dbarg, sizeof(dbarg), "sql:%s", db->dir);
	return cnie_tool_run(strcmp(op, "add") == 0 ? add : del, NULL, 0, NULL);
}

static void
register_db(reg_out *o, const cnie_tool_nssdb *db, const char *module)
{
	char lib[4096], name[256];
	const char *why = cnie_tool_nssdb_sandbox_reason(db->kind);
	int st;

	if (why != NULL) {
		report(o, db, "skipped", why);
		return;
	}
	if (cnie_tool_nssdb_create(db) != 0) {
		o->failed++;
		report(o, db, "FAILED", N_("cannot create the database (certutil -N)"));
		return;
	}
	st = cnie_tool_nssdb_module(db, lib, sizeof(lib), name, sizeof(name));
	if (st == 1 && strcmp(lib, module) == 0) {
		report(o, db, "unchanged", N_("already registered"));
		return;
	}
	/* Another path (an older install, a bare library name): replace it. */
	if (st == 1)
		(void)modutil("delete", db, name, NULL);
	(void)modutil("add", db, MODULE_NAME, module);
	if (cnie_tool_nssdb_module(db, lib, sizeof(lib), NULL, 0) == 1 && strcmp(lib, module) == 0) {
		o->changed++;
		report(o, db, "registered", module);
	} else {
		o->failed++;
		report(o, db, "FAILED", N_("modutil -add did not register the module"));
	}
}

static void
unregister_db(reg_out *o, const cnie_tool_nssdb *db)
{
	char name[256];
	int guard = 0;

	if (cnie_tool_nssdb_module(db, NULL, 0, name, sizeof(name)) != 1) {
		report(o, db, "unchanged", N_("not registered"));
		return;
	}
	/* Every entry naming cnie-pkcs11.so (a user may have added several). */
	while (cnie_tool_nssdb_module(db, NULL, 0, name, sizeof(name)) == 1 && guard++ < 8)
		if (modutil("delete", db, name, NULL) != 0)
			break;
	if (cnie_tool_nssdb_module(db, NULL, 0, NULL, 0) == 1) {
		o->failed++;
		report(o, db, "FAILED", N_("modutil -delete did not remove the module"));
	} else {
		o->changed++;
		report(o, db, "removed", NULL);
	}
}

/*
 * Firefox policies: {"policies": {"SecurityDevices": {NAME: PATH}}}, or
 * the newer {"Add": {NAME: PATH}, "Delete": [...]} form when the file
 * already uses it.  Other policies are kept as they are.
 */
static int
system_policy(cnie_tool *tool, bool add, const char *module, const char *file)
{
	json_t *root = NULL, *pol, *dev, *target;
	json_error_t je;
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	struct stat st;
	bool changed = false;
	int rc = CNIE_TOOL_EXIT_FAIL, fd = -1;
	FILE *f = NULL;

	if (stat(file, &st) == 0) {
		if (!S_ISREG(st.st_mode) || st.st_size > POLICIES_MAX) {
			fprintf(stderr, _("cnie-tool: %s is not a policies file\n"), file);
			return CNIE_TOOL_EXIT_FAIL;
		}
		if ((root = json_load_file(file, JSON_REJECT_DUPLICATES, &je)) == NULL ||
		    !json_is_object(root)) {
			fprintf(stderr, _("cnie-tool: %s: not valid JSON (line %d: %s); not changed\n"),
			    file, je.line, je.text);
			goto out;
		}
	} else if (!add) {
		rc = CNIE_TOOL_EXIT_OK;
		if (!tool->json)
			printf("%-11s %s: %s\n", _("unchanged"), file, _("no policies file"));
		else
			cnie_tool_print_json(json_pack("{s:s,s:s}", "policies", file, "result",
			    "unchanged"));
		goto out;
	} else if ((root = json_object()) == NULL) {
		goto out;
	}
	if ((pol = json_object_get(root, "policies")) == NULL) {
		json_object_set_new(root, "policies", json_object());
		pol = json_object_get(root, "policies");
	}
	if (!json_is_object(pol)) {
		fprintf(stderr, _("cnie-tool: %s: \"policies\" is not an object; not changed\n"), file);
		goto out;
	}
	if ((dev = json_object_get(pol, "SecurityDevices")) == NULL && add) {
		json_object_set_new(pol, "SecurityDevices", json_object());
		dev = json_object_get(pol, "SecurityDevices");
	}
	if (dev != NULL && !json_is_object(dev)) {
		fprintf(stderr, _("cnie-tool: %s: \"SecurityDevices\" is not an object; not changed\n"),
		    file);
		goto out;
	}
	target = dev;
	if (dev != NULL && json_is_object(json_object_get(dev, "Add")))
		target = json_object_get(dev, "Add");
	if (add) {
		json_t *cur = json_object_get(target, MODULE_NAME);
		if (!json_is_string(cur) || strcmp(json_string_value(cur), module) != 0) {
			json_object_set_new(target, MODULE_NAME, json_string(module));
			changed = true;
		}
	} else if (target != NULL && json_object_get(target, MODULE_NAME) != NULL) {
		json_object_del(target, MODULE_NAME);
		changed = true;
	}
	if (changed) {
		/* Written beside, then renamed: Firefox never reads half a file. */
		snprintf(dir, sizeof(dir), "%s", file);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			for (char *p = dir + 1; *p != '\0'; p++) {
				if (*p == '/') {
					*p = '\0';
					(void)mkdir(dir, 0755);
					*p = '/';
				}
			}
			(void)mkdir(dir, 0755);
		}
		if (snprintf(tmp, sizeof(tmp), "%s.cnie-tool.tmp", file) >= (int)sizeof(tmp) ||
		    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0 ||
		    (f = fdopen(fd, "w")) == NULL) {
			if (errno == EACCES)
				fprintf(stderr, _("cnie-tool: cannot write %s: %s (run it as root: sudo "
				    "cnie-tool ...)\n"), file, strerror(errno));
			else
				fprintf(stderr, _("cnie-tool: cannot write %s: %s\n"), file,
				    strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		if (json_dumpf(root, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF ||
		    fflush(f) != 0 || fsync(fileno(f)) != 0) {
			fprintf(stderr, _("cnie-tool: cannot write %s\n"), tmp);
			fclose(f);
			unlink(tmp);
			goto out;
		}
		fclose(f);
		if (rename(tmp, file) != 0) {
			fprintf(stderr, _("cnie-tool: cannot replace %s: %s\n"), file, strerror(errno));
			unlink(tmp);
			goto out;
		}
	}
	rc = CNIE_TOOL_EXIT_OK;
	if (tool->json)
		cnie_tool_print_json(json_pack("{s:s,s:s,s:s}", "policies", file, "module", module,
		    "result", changed ? (add ? "registered" : "removed") : "unchanged"));
	else if (changed && add)
		printf(_("%-11s %s: Firefox policy SecurityDevices \"%s\" = %s (restart Firefox)\n"),
		    _("registered"), file, MODULE_NAME, module);
	else if (changed)
		printf(_("%-11s %s: Firefox policy SecurityDevices \"%s\" (restart Firefox)\n"),
		    _("removed"), file, MODULE_NAME);
	else
		printf("%-11s %s: %s\n", _("unchanged"), file, add ? _("already registered") :
		    _("not registered"));
out:
	json_decref(root);
	return rc;
}

static int
run_register(cnie_tool *tool, int argc, char **argv, bool add)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "system", no_argument, NULL, 's' },
		{ "policies", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *opt_module = NULL, *policies = POLICIES_FILE;
	cnie_tool_nssdb dbs[CNIE_TOOL_NSSDB_MAX];
	char module[PATH_MAX] = "";
	bool sys = false;
	reg_out o = { tool, NULL, 0, 0 };
	size_t n;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': opt_module = optarg; break;
		case 's': sys = true; break;
		case 'p': policies = optarg; break;
		case 'h':
			printf(_("usage: %s\n"), argv[0][0] == 'u' ? "cnie-tool unregister "
			    "[--module PATH]\n       cnie-tool unregister --system [--module PATH] "
			    "[--policies FILE]" : "cnie-tool register [--module PATH]\n       "
			    "cnie-tool register --system [--module PATH] [--policies FILE]");
			return CNIE_TOOL_EXIT_OK;
		default:
			return CNIE_TOOL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cnie_tool_usage_error(tool, N_("%s: unexpected argument \"%s\""), argv[0],
		    argv[optind]);
	/* Removing needs no module file: the entries are found by library name. */
	if (cnie_tool_module_path(opt_module, module, sizeof(module)) != 0 && add) {
		fprintf(stderr, _("cnie-tool: the PKCS#11 module %s was not found: install the "
		    "package cnie-pkcs11 (sudo apt-get install cnie-pkcs11) or give --module PATH\n"),
		    opt_module != NULL ? opt_module : "cnie-pkcs11.so");
		return CNIE_TOOL_EXIT_FAIL;
	}
	if (sys)
		return system_policy(tool, add, module, policies);

	if ((o.dbs = json_array()) == NULL)
		return CNIE_TOOL_EXIT_FAIL;
	n = cnie_tool_nssdb_find(dbs, CNIE_TOOL_NSSDB_MAX, add);
	if (n == 0) {
		json_decref(o.dbs);
		fprintf(stderr, "%s\n", _("cnie-tool: no NSS database found (is HOME set?)"));
		return CNIE_TOOL_EXIT_FAIL;
	}
	if (add && cnie_tool_run((const char *const[]){ "modutil", "--help", NULL }, NULL, 0,
	    NULL) < 0) {
		json_decref(o.dbs);
		fprintf(stderr, "%s\n",
		    _("cnie-tool: modutil not found: sudo apt-get install libnss3-tools"));
		return CNIE_TOOL_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		if (add)
			register_db(&o, &dbs[i], module);
		else
			unregister_db(&o, &dbs[i]);
	}
	if (tool->json) {
		cnie_tool_print_json(json_pack("{s:s?,s:o,s:i,s:i}", "module",
		    module[0] != '\0' ? module : NULL, "databases", o.dbs, "changed", o.changed,
		    "failed", o.failed));
	} else {
		json_decref(o.dbs);
		if (o.changed > 0 && add)
			printf(ngettext("%d database changed: restart the browsers to load the module.\n",
			    "%d databases changed: restart the browsers to load the module.\n",
			    (unsigned long)o.changed), o.changed);
		else if (o.changed > 0)
			printf(ngettext("%d database changed: restart the browsers to unload the "
			    "module.\n", "%d databases changed: restart the browsers to unload the "
			    "module.\n", (unsigned long)o.changed), o.changed);
	}
	return o.failed > 0 ? CNIE_TOOL_EXIT_FAIL : CNIE_TOOL_EXIT_OK;
}

int
cnie_tool_cmd_register(cnie_tool *tool, int argc, char **argv)
{
	return run_register(tool, argc, argv, true);
}

int
cnie_tool_cmd_unregister(cnie_tool *tool, int argc, char **argv)
{
	return run_register(tool, argc, argv, false);
}
