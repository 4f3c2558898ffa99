/*
 * Replays a libFuzzer seed corpus in the normal build: every file named on
 * the command line, or found in a directory named there, is passed once to
 * LLVMFuzzerTestOneInput.  ctest runs it so the corpus is a regression suite.
 * Prints "N passed, 0 failed"; a crash fails the test by itself.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (1024 * 1024)

static int
run_file(const char *path, unsigned *count)
{
	static uint8_t buf[REPLAY_MAX_INPUT];
	uint8_t *copy;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* An exact-size heap copy so ASan sees any read past the input. */
	if ((copy = malloc(n > 0 ? n : 1)) == NULL)
		return -1;
	memcpy(copy, buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	(*count)++;
	return 0;
}

static int
run_path(const char *path, unsigned *count)
{
	struct dirent **ents = NULL;
	struct stat st;
	char child[4096];
	int i, n, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: not found\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(child, sizeof(child), "%s/%s", path, ents[i]->d_name);
			if (run_path(child, count) != 0)
				rc = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned count = 0;
	int i, rc = 0;

	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &count) != 0)
			rc = 1;
	if (count == 0) {
		fprintf(stderr, "replay: empty corpus\n");
		return 1;
	}
	printf("%u passed, 0 failed\n", count);
	return rc;
}
