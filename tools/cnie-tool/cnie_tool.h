/*
 * cnie-tool: what every subcommand file (cmd_*.c) shares with main.c.
 *
 * A subcommand is `int cnie_tool_cmd_NAME(cnie_tool *tool, int argc,
 * char **argv)`: argv[0] is the subcommand name, the global options
 * (--json, --reader, --reference-card, -v) are already parsed into *tool.
 * It prints its own result (human text, or exactly one JSON document on
 * stdout with --json) and returns one of the exit codes below.
 */
#ifndef CNIE_TOOL_H
#define CNIE_TOOL_H

#include <stdbool.h>

#include <jansson.h>

/* Exit codes (documented in cnie-tool(1)). */
enum {
	CNIE_TOOL_EXIT_OK = 0,	      /* done; every doctor check OK or WARN */
	CNIE_TOOL_EXIT_FAIL = 1,      /* the operation or a check failed (verification, doctor FAIL) */
	CNIE_TOOL_EXIT_USAGE = 2,     /* bad command line */
	CNIE_TOOL_EXIT_NO_SERVICE = 3, /* pcscd unreachable, no reader, no card, card not recognised */
	CNIE_TOOL_EXIT_PIN = 4,	      /* PIN/PUK incorrect or blocked */
	CNIE_TOOL_EXIT_CANCELLED = 5, /* the user cancelled (pinentry, PIN pad) */
};

typedef struct cnie_tool {
	bool json;		    /* --json: one JSON document on stdout */
	const char *reader;	    /* --reader NAME (NULL: the only reader with a card) */
	const char *reference_card; /* --reference-card DIR: in-process reference card instead of PC/SC */
	int verbose;		    /* -v count */
} cnie_tool;

/* Maps a cnie_error (include/cnie/error.h) to an exit code (main.c). */
int cnie_tool_exit_for_error(int cnie_err);
/* Prints j (stolen) as one JSON document on stdout, then a newline (main.c). */
void cnie_tool_print_json(json_t *j);

/* Subcommands: cmd_<name>.c each. */
int cnie_tool_cmd_readers(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_info(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_identity(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_certs(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_pin(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_sign(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_verify(cnie_tool *tool, int argc, char **argv);
int cnie_tool_cmd_doctor(cnie_tool *tool, int argc, char **argv);
/* cmd_bridge.c (with cnied): `bridge status|trust`. */
int cnie_tool_cmd_bridge(cnie_tool *tool, int argc, char **argv);
/* cmd_verify_token.c (with the Web eID verifier, cnie/webeid.h). */
int cnie_tool_cmd_verify_token(cnie_tool *tool, int argc, char **argv);

#endif
