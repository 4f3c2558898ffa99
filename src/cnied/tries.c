/*
 * PIN tries left, remembered per reader and card.  No status VERIFY is
 * sent before asking for the PIN (it would cost an APDU on every
 * operation): the dialog shows the tries left once a wrong PIN has told
 * us, and only for the card that told us: a card in another reader, or
 * another card in the same reader, starts without a count.  A handful of
 * slots is plenty for the readers of one desk; the oldest is reused.
 */
#include <stdio.h>
#include <string.h>

#include "ops.h"

void
cnied_tries_init(cnied_tries *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < CNIED_TRIES_SLOTS; i++)
		t->slot[i].tries = -1;
}

static int
find(const cnied_tries *t, const char *reader, const char *card)
{
	size_t i;

	for (i = 0; i < CNIED_TRIES_SLOTS; i++)
		if (t->slot[i].tries >= 0 && strcmp(t->slot[i].reader, reader) == 0 &&
		    strcmp(t->slot[i].card, card) == 0)
			return (int)i;
	return -1;
}

int
cnied_tries_get(const cnied_tries *t, const char *reader, const char *card)
{
	int i = find(t, reader, card);

	return i < 0 ? -1 : t->slot[i].tries;
}

void
cnied_tries_set(cnied_tries *t, const char *reader, const char *card, int tries)
{
	int i = find(t, reader, card);
	size_t k;

	if (tries < 0) {
		if (i >= 0)
			t->slot[i].tries = -1;
		return;
	}
	if (i < 0) {
		/* A free slot, else the least recently used one. */
		i = 0;
		for (k = 0; k < CNIED_TRIES_SLOTS; k++) {
			if (t->slot[k].tries < 0) {
				i = (int)k;
				break;
			}
			if (t->slot[k].stamp < t->slot[i].stamp)
				i = (int)k;
		}
		snprintf(t->slot[i].reader, sizeof(t->slot[i].reader), "%s", reader);
		snprintf(t->slot[i].card, sizeof(t->slot[i].card), "%s", card);
	}
	t->slot[i].tries = tries;
	t->slot[i].stamp = ++t->clock;
}
