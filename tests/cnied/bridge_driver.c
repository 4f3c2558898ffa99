/*
 * Test driver for tools/cnie-tool/cmd_bridge.c without cnie-tool's main.c:
 *   bridge_driver [--json] bridge status|trust [--state-dir DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnie_tool.h"

int
cnie_tool_exit_for_error(int cnie_err)
{
	return cnie_err == 0 ? CNIE_TOOL_EXIT_OK : CNIE_TOOL_EXIT_FAIL;
}

void
cnie_tool_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

int
main(int argc, char **argv)
{
	cnie_tool tool;
	int i = 1;

	memset(&tool, 0, sizeof(tool));
	if (i < argc && strcmp(argv[i], "--json") == 0) {
		tool.json = true;
		i++;
	}
	if (i >= argc || strcmp(argv[i], "bridge") != 0) {
		fprintf(stderr, "usage: bridge_driver [--json] bridge status|trust [--state-dir DIR]\n");
		return CNIE_TOOL_EXIT_USAGE;
	}
	return cnie_tool_cmd_bridge(&tool, argc - i, argv + i);
}
