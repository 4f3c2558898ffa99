/*
 * cnie-tool identity, human output: the identity as a person reads it, in
 * the user's language (po/): names without the ICAO 9303 fillers ("<"),
 * dates as dates (two-digit MRZ years resolved as ICAO 9303 says: a birth
 * date is never in the future, an expiry date is in this century), sex and
 * nationality in words.  The raw values stay in --json.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cnie_tool.h"

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* ICAO fillers out: "<<" separates parts (sep), "<" is a space. */
static void
unfill(const char *in, const char *sep, char *out, size_t max)
{
	size_t o = 0;

	if (max == 0)
		return;
	for (size_t i = 0; in[i] != '\0' && o + 1 < max; i++) {
		if (in[i] != '<') {
			out[o++] = in[i];
			continue;
		}
		const char *add = " ";
		size_t n = 1;

		if (in[i + 1] == '<') {
			add = sep;
			while (in[i + 1] == '<')
				i++;
		}
		n = strlen(add);
		if (o + n >= max)
			break;
		memcpy(out + o, add, n);
		o += n;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/*
 * "YYYYMMDD" or "YYMMDD" to a date in the user's language; birth: a two-digit
 * year after this year's belongs to the previous century.  0: not a date.
 */
static int
format_date(const char *s, bool birth, char *out, size_t max)
{
	struct tm tm = { 0 };
	int y, m, d;
	size_t n = s != NULL ? strlen(s) : 0;

	if ((n != 8 && n != 6) || strspn(s, "0123456789") != n)
		return 0;
	if (n == 8) {
		y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		s += 4;
	} else {
		time_t now = time(NULL);
		struct tm t;
		int yy = (s[0] - '0') * 10 + (s[1] - '0');

		if (gmtime_r(&now, &t) == NULL)
			return 0;
		y = 2000 + yy;
		if (birth && y > t.tm_year + 1900)
			y -= 100;
		s += 2;
	}
	m = (s[0] - '0') * 10 + (s[1] - '0');
	d = (s[2] - '0') * 10 + (s[3] - '0');
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	/* xgettext:no-c-format */
	/* TRANSLATORS: a date for strftime(3): day, month name, year. */
	return strftime(out, max, _("%-d %B %Y"), &tm) > 0;
}

static const char *
country(const char *code)
{
	if (code != NULL && strcmp(code, "MAR") == 0)
		return _("Morocco");
	return code;
}

static void
row(const char *label, const char *value)
{
	if (value != NULL && value[0] != '\0')
		printf("  %s: %s\n", label, value);
}

void
cnie_tool_print_identity(json_t *j)
{
	json_t *mrz = json_object_get(j, "mrz"), *dg11 = json_object_get(j, "dg11");
	json_t *dg12 = json_object_get(j, "dg12");
	char a[512], b[512], date[128];
	const char *s, *full = str(dg11, "full_name");

	printf("%s\n", _("Identity:"));
	if (full != NULL && strstr(full, "<<") != NULL) {
		const char *cut = strstr(full, "<<");

		snprintf(a, sizeof(a), "%.*s", (int)(cut - full), full);
		unfill(a, " ", b, sizeof(b));
		row(_("Surname"), b);
		unfill(cut + 2, " ", a, sizeof(a));
		row(_("Given names"), a);
	} else if (full != NULL) {
		unfill(full, " ", a, sizeof(a));
		row(_("Full name"), a);
	} else {
		if ((s = str(mrz, "surname")) != NULL) {
			unfill(s, " ", a, sizeof(a));
			row(_("Surname"), a);
		}
		if ((s = str(mrz, "given_names")) != NULL) {
			unfill(s, " ", a, sizeof(a));
			row(_("Given names"), a);
		}
	}
	{
		json_t *on = json_object_get(dg11, "other_names");
		size_t i;
		json_t *e;

		json_array_foreach(on, i, e) {
			if (json_string_value(e) == NULL)
				continue;
			unfill(json_string_value(e), " ", a, sizeof(a));
			row(_("Other names"), a);
		}
	}
	if ((format_date(str(dg11, "full_birth_date"), true, date, sizeof(date)) ||
	    format_date(str(mrz, "birth_date"), true, date, sizeof(date))))
		row(_("Date of birth"), date);
	if ((s = str(dg11, "place_of_birth")) != NULL) {
		/* "CITY<COUNTRY": the country code in words. */
		const char *lt = strrchr(s, '<');

		if (lt != NULL && strlen(lt + 1) == 3) {
			snprintf(a, sizeof(a), "%.*s", (int)(lt - s), s);
			unfill(a, ", ", b, sizeof(b));
			/* TRANSLATORS: place of birth: "CITY, COUNTRY". */
			snprintf(a, sizeof(a), _("%s, %s"), b, country(lt + 1));
		} else {
			unfill(s, ", ", a, sizeof(a));
		}
		row(_("Place of birth"), a);
	}
	if ((s = str(mrz, "sex")) != NULL)
		row(_("Sex"), strcmp(s, "F") == 0 ? _("Female") : strcmp(s, "M") == 0 ? _("Male") :
		    _("Unspecified"));
	if ((s = str(mrz, "nationality")) != NULL)
		row(_("Nationality"), strcmp(s, "MAR") == 0 ? _("Moroccan") : s);
	if ((s = str(mrz, "document_number")) != NULL) {
		unfill(s, " ", a, sizeof(a));
		row(_("Card number"), a);
	}
	if (format_date(str(dg12, "date_of_issue"), false, date, sizeof(date)))
		row(_("Date of issue"), date);
	if (format_date(str(mrz, "expiry_date"), false, date, sizeof(date)))
		row(_("Valid until"), date);
	if ((s = str(dg12, "issuing_authority")) != NULL)
		row(_("Issuing authority"), s);
	if ((s = str(mrz, "issuing_state")) != NULL)
		row(_("Issuing state"), country(s));
}
