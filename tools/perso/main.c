/*
 * cnie-perso: personalises a reference test card.
 *
 *   cnie-perso --desc tests/cards/ec.json --out DIR [--pki-out DIR] [--force]
 *
 * Writes DIR (docs/card-dir.md) and, with --pki-out, the test PKI's
 * certificates into a shared folder.  Exit status: 0 done, 1 error,
 * 2 usage.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cnie/error.h>

#include "perso.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: cnie-perso --desc FILE.json --out DIR [--pki-out DIR] [--force]\n"
	    "  --desc FILE     card description (tests/cards/NAME.json)\n"
	    "  --out DIR       card directory to write (docs/card-dir.md)\n"
	    "  --pki-out DIR   also write the test PKI certificates there\n"
	    "  --force         replace an existing card directory\n"
	    "Writes TEST cards only: the keys are derived from a public seed.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "desc", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "pki-out", required_argument, NULL, 'p' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *desc_path = NULL, *out = NULL, *pki_out = NULL;
	char err[PERSO_ERRLEN] = "";
	perso_desc desc;
	perso_card card;
	bool force = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "d:o:p:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			desc_path = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			pki_out = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || desc_path == NULL || out == NULL) {
		usage(stderr);
		return 2;
	}
	if ((r = perso_desc_load(desc_path, &desc, err, sizeof(err))) != 0) {
		fprintf(stderr, "cnie-perso: %s: %s\n", desc_path, err);
		return 1;
	}
	r = perso_card_make(&desc, &card, err, sizeof(err));
	perso_desc_clear(&desc);
	if (r != 0) {
		fprintf(stderr, "cnie-perso: %s: %s\n", desc_path, err);
		return 1;
	}
	r = perso_card_write(&card, out, pki_out, force, err, sizeof(err));
	perso_card_free(&card);
	if (r != 0) {
		fprintf(stderr, "cnie-perso: %s\n", err);
		return 1;
	}
	return 0;
}
