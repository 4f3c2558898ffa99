/*
 * GET /v1/status: the readers and cards as the watcher last saw them
 * (events.c), without touching PC/SC on the loop thread (except to try a
 * new context while pcscd is reported gone), and whether the PC/SC service
 * itself answers.
 */
#include <cnie/error.h>

#include "api.h"

json_t *
cnied_status_json(const cnied_config *cfg)
{
	cnied_reader_info r[CNIED_MAX_READERS];
	json_t *a = json_array(), *j;
	size_t n, i;
	int err;

	/* Only while pcscd is reported gone: a new PC/SC context is tried
	 * here so the first status after pcscd is back lists the readers. */
	cnied_readers_revive();
	n = cnied_readers_snapshot(r, CNIED_MAX_READERS, &err);
	/* "recognised": null until an operation has looked at the card (status
	 * never touches it), then true or false (not a CNIE card). */
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:b,s:o,s:b}", "name", r[i].name, "card",
		    r[i].card, "recognised",
		    r[i].checked ? json_boolean(r[i].recognised) : json_null(), "pinpad",
		    r[i].pinpad));
	j = json_pack("{s:s,s:s,s:o}", "version", CNIE_VERSION, "transport",
	    cfg->refcard_dir != NULL ? "reference-card" : "pcsc", "readers", a);
	if (err != 0 && j != NULL) {
		int st;
		const char *code;

		cnied_error_for(err, &st, &code);
		json_object_set_new(j, "service", json_string(code));
	}
	return j;
}
