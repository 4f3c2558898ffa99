/*
 * cnie-sim: drives the virtual readers of libifd-cnie-sim through their
 * control sockets (DIR/control.sock): insert and remove reference cards,
 * power-cycle them, read a reader's status, type on a PIN pad.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cnie/buf.h>

#define LINE_MAX_LEN 4096
#define REPLY_MAX 8192
#define REPLY_TIMEOUT_S 15

enum { EXIT_OK = 0, EXIT_DRIVER = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3, EXIT_PROTO = 4 };

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: cnie-sim [--reader-dir DIR | --reader N [--base DIR]] COMMAND [ARGS]\n"
	    "\n"
	    "Commands (sent to DIR/control.sock of a libifd-cnie-sim virtual reader):\n"
	    "  insert CARDDIR [STATEFILE]  insert the reference card in CARDDIR (absolute\n"
	    "                              path); its PIN counters live in STATEFILE or the\n"
	    "                              reader's state directory\n"
	    "  remove                      remove the card\n"
	    "  reset                       power-cycle the card: removal then insertion,\n"
	    "                              PC/SC clients see SCARD_W_REMOVED_CARD and the\n"
	    "                              card forgets verified PINs and SM sessions\n"
	    "  status                      print the reader's state as one JSON line\n"
	    "  keys DIGITS...              queue keypad entries (each: digits then OK) of a\n"
	    "                              PIN-pad or PACE reader (PACE: the CAN first)\n"
	    "  keys cancel | keys timeout  queue a Cancel key (64 01) or no entry (64 00)\n"
	    "  keys clear                  drop queued entries\n"
	    "  keys -                      read the entries from standard input\n"
	    "\n"
	    "Reader selection: --reader-dir DIR, or --reader N for BASE/readerN where BASE\n"
	    "is --base or $CNIE_SIM_BASE (tests/harness/setup-virtual-readers: reader0\n"
	    "contact, reader1 contactless, reader2 PIN pad, reader3 PACE reader).\n"
	    "Default: --reader 0.\n"
	    "\n"
	    "Exit status: 0 done; 1 the driver refused (message on stderr); 2 usage;\n"
	    "3 cannot reach the reader (driver not loaded, pcscd not running);\n"
	    "4 malformed or missing reply.\n");
}

static int
add(char *line, size_t cap, const char *s)
{
	size_t n = strlen(line), k = strlen(s);

	if (strpbrk(s, "\n\r") != NULL || k > cap - 1 - n - 1)
		return -1;
	if (n > 0)
		line[n++] = ' ';
	memcpy(line + n, s, k + 1);
	return 0;
}

/* keys -: entries from stdin, so that digits stay off the command line. */
static int
add_stdin(char *line, size_t cap)
{
	char buf[LINE_MAX_LEN], *save = NULL, *tok;
	int rc = 0;

	if (fgets(buf, sizeof(buf), stdin) == NULL)
		return -1;
	for (tok = strtok_r(buf, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if ((rc = add(line, cap, tok)) != 0)
			break;
	}
	cnie_wipe(buf, sizeof(buf));
	return rc;
}

static int
talk(const char *dir, const char *line, char *reply, size_t cap)
{
	struct sockaddr_un sa;
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	size_t len = 0, n = strlen(line);
	ssize_t k;
	int fd, rc = EXIT_PROTO;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	k = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", dir);
	if (k < 0 || (size_t)k >= sizeof(sa.sun_path)) {
		fprintf(stderr, "cnie-sim: reader directory path too long\n");
		return EXIT_USAGE;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return EXIT_CONNECT;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "cnie-sim: cannot reach %s: %s (is pcscd running with the "
		    "virtual reader driver?)\n", sa.sun_path, strerror(errno));
		close(fd);
		return EXIT_CONNECT;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n > 0) {
		k = send(fd, line, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto out;
		line += k;
		n -= (size_t)k;
	}
	while (len < cap - 1) {
		k = recv(fd, reply + len, cap - 1 - len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	reply[len] = '\0';
	if (len == 0 || reply[len - 1] != '\n' || strchr(reply, '\n') != reply + len - 1) {
		fprintf(stderr, "cnie-sim: no valid reply from the driver\n");
		goto out;
	}
	reply[len - 1] = '\0';
	rc = EXIT_OK;
out:
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader-dir", required_argument, NULL, 'd' },
		{ "reader", required_argument, NULL, 'r' },
		{ "base", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char line[LINE_MAX_LEN] = "", reply[REPLY_MAX], dirbuf[PATH_MAX];
	const char *dir = NULL, *base = getenv("CNIE_SIM_BASE"), *cmd;
	long reader = 0;
	char *end;
	int c, i, rc = EXIT_USAGE, nargs;

	while ((c = getopt_long(argc, argv, "+d:r:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'r':
			errno = 0;
			reader = strtol(optarg, &end, 10);
			if (errno != 0 || *optarg == '\0' || *end != '\0' || reader < 0 ||
			    reader > 99) {
				fprintf(stderr, "cnie-sim: bad reader number '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'b':
			base = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (dir == NULL) {
		if (base == NULL || base[0] == '\0') {
			fprintf(stderr, "cnie-sim: give --reader-dir DIR, or --base DIR "
			    "(or set CNIE_SIM_BASE)\n");
			return EXIT_USAGE;
		}
		i = snprintf(dirbuf, sizeof(dirbuf), "%s/reader%ld", base, reader);
		if (i < 0 || (size_t)i >= sizeof(dirbuf))
			return EXIT_USAGE;
		dir = dirbuf;
	}
	if ((strcmp(cmd, "insert") == 0 && (nargs < 1 || nargs > 2)) ||
	    ((strcmp(cmd, "remove") == 0 || strcmp(cmd, "reset") == 0 ||
		 strcmp(cmd, "status") == 0) && nargs != 0) ||
	    (strcmp(cmd, "keys") == 0 && nargs < 1)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "insert") != 0 && strcmp(cmd, "remove") != 0 &&
	    strcmp(cmd, "reset") != 0 && strcmp(cmd, "status") != 0 &&
	    strcmp(cmd, "keys") != 0) {
		fprintf(stderr, "cnie-sim: unknown command '%s'\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "insert") == 0) {
		/* Not dirbuf: that may hold the reader's directory (--base). */
		static char cardbuf[PATH_MAX];
		char probe[PATH_MAX + 16];
		struct stat st;

		/* The driver runs elsewhere: give it an absolute path. */
		if (argv[optind + 1][0] != '/') {
			if (realpath(argv[optind + 1], cardbuf) == NULL) {
				fprintf(stderr, "cnie-sim: %s: no such card directory (%s)\n",
				    argv[optind + 1], strerror(errno));
				return EXIT_USAGE;
			}
			argv[optind + 1] = cardbuf;
		}
		/* A card directory holds card.json (the build makes BUILD/cards/ec, rsa, ...). */
		i = snprintf(probe, sizeof(probe), "%s/card.json", argv[optind + 1]);
		if (i < 0 || (size_t)i >= sizeof(probe) || stat(probe, &st) != 0 ||
		    !S_ISREG(st.st_mode)) {
			fprintf(stderr, "cnie-sim: %s: no such card directory (no card.json "
			    "there; the build makes BUILD/cards/ec, BUILD/cards/rsa, ...)\n",
			    argv[optind + 1]);
			return EXIT_USAGE;
		}
	}
	for (i = optind; i < argc; i++) {
		if (strcmp(cmd, "keys") == 0 && i > optind && strcmp(argv[i], "-") == 0) {
			if (add_stdin(line, sizeof(line)) != 0)
				goto bad;
		} else if (add(line, sizeof(line), argv[i]) != 0) {
			goto bad;
		}
	}
	if (add(line, sizeof(line), "") != 0)
		goto bad;
	line[strlen(line) - 1] = '\n'; /* the separator added above becomes the terminator */
	rc = talk(dir, line, reply, sizeof(reply));
	cnie_wipe(line, sizeof(line));
	if (rc != EXIT_OK)
		return rc;
	if (strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' || reply[2] == ' ')) {
		if (reply[2] == ' ')
			printf("%s\n", reply + 3);
		return EXIT_OK;
	}
	if (strncmp(reply, "error", 5) == 0) {
		fprintf(stderr, "cnie-sim: %s\n", reply[5] == ' ' ? reply + 6 : reply);
		return EXIT_DRIVER;
	}
	fprintf(stderr, "cnie-sim: unexpected reply from the driver\n");
	return EXIT_PROTO;
bad:
	cnie_wipe(line, sizeof(line));
	fprintf(stderr, "cnie-sim: command too long or contains a newline\n");
	return EXIT_USAGE;
}
