#!/usr/bin/env python3
"""cnied's dialogs as a citizen sees them (issue 15; src/cnied/ops.c, op_*.c).

usage: dialogs_test.py ar|fr|description   (CNIE_BUILD_DIR, CNIE_SOURCE_DIR)

Each case starts cnied (tests/cnied/cnied_test.py's Bridge: the reference
card in process, the scripted pinentry tests/harness/pinentry-script, whose
log holds every command the bridge sent) and asserts the dialogs:

  ar, fr       LANG=ar_MA.UTF-8 / fr_FR.UTF-8 (locales built here with
               localedef into BUILD/l10n/cnied-locales, LOCPATH: no root):
               titles, texts, prompts, button labels and SETERROR in the
               language, OPTION lc-ctype / lc-messages passed to the
               pinentry; a wrong PIN then the right one completes the login
               in one request with SETERROR before the second prompt; the
               sign consent shows the portal's description and the hash's
               fingerprint; the identity consent lists the fields in words;
               a blocked PIN gets advice (a MESSAGE dialog, no PIN dialog).
  description  the "description" of /v1/sign: what is refused (400 naming
               the field) and how it is shown, in English (LANG=C); a PIN
               of the wrong form asked again without spending a try.
Exit 0 when every check passed, 1 otherwise, 77 to skip (never under CI=true).
"""
import base64
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cnied_test as ct  # noqa: E402
from cnied_test import ORIGIN, check, err_code, nonce, verify_token  # noqa: E402

FSI, PDI = "\u2068", "\u2069"

# What each language must show (po/ar.po, po/fr.po).
LANGS = {
    "ar": {
        "locale": "ar_MA.UTF-8",
        "cert_title": "البطاقة الوطنية للتعريف الإلكترونية",
        "cert_desc": "قراءة شهادات بطاقتك الوطنية للتعريف الإلكترونية",
        "allow": "سماح", "deny": "رفض",
        "sign_title": "التوقيع بالبطاقة الوطنية للتعريف الإلكترونية",
        "sign_desc": "توقيع وثيقة بمفتاح التوقيع",
        "said": "يصف الموقع الوثيقة كما يلي: «",
        "own_words": "(هذه كلمات الموقع نفسه)",
        "fingerprint": "بصمة الوثيقة",
        "description": "طلب شهادة السكنى",
        "pin_title": "الرمز السري للبطاقة الوطنية للتعريف الإلكترونية",
        "pin_prompt": "الرمز السري:",
        "login": "تسجيل دخولك",
        "enter_pin": "أدخل رمزك السري.",
        "continue": "متابعة", "cancel": "إلغاء",
        "wrong2": "الرمز السري خاطئ: تبقّت محاولتان.",
        "last": "الرمز السري خاطئ. هذه محاولتك الأخيرة",
        "id_title": "الهوية من البطاقة الوطنية للتعريف الإلكترونية",
        "id_items": ["اسمك العائلي واسمك الشخصي", "اسمك الكامل", "صورتك",
                     "دليل على أن بطاقتك أصلية"],
        "can_prompt": "رقم CAN:",
        "can_desc": "رقم الولوج إلى البطاقة (CAN)",
        "blocked": "مُقفَل",
        "puk": "برمز PUK",
        "close": "إغلاق",
    },
    "fr": {
        "locale": "fr_FR.UTF-8",
        "cert_title": "Carte CNIE",
        "cert_desc": "souhaite lire les certificats de votre carte CNIE",
        "allow": "Autoriser", "deny": "Refuser",
        "sign_title": "Signature CNIE",
        "sign_desc": "vous demande de signer un document avec votre clé de signature CNIE",
        "said": "Le site décrit le document ainsi : « ",
        "own_words": "(ce sont les mots du site lui-même)",
        "fingerprint": "Empreinte du document (SHA-256) : ",
        "description": "Attestation de résidence",
        "pin_title": "Code PIN de la carte CNIE",
        "pin_prompt": "Code PIN :",
        "login": "souhaite vous connecter avec votre carte CNIE",
        "enter_pin": "Saisissez votre code PIN.",
        "continue": "Continuer", "cancel": "Annuler",
        "wrong2": "Code PIN erroné : 2 essais restants.",
        "last": "Code PIN erroné. C'est votre dernier essai",
        "id_title": "Identité CNIE",
        "id_items": ["vos nom et prénoms", "votre nom complet", "votre photo",
                     "une preuve que votre carte est authentique"],
        "can_prompt": "CAN :",
        "can_desc": "numéro d'accès à la carte (CAN)",
        "blocked": "est bloqué",
        "puk": "code PUK",
        "close": "Fermer",
    },
}


def skip(reason):
    if os.environ.get("CI") == "true":
        print("FAIL (CI=true: a test that cannot run fails): " + reason)
        sys.exit(1)
    print("SKIP: " + reason)
    sys.exit(77)


def build_locales():
    """ar_MA.UTF-8 and fr_FR.UTF-8 under BUILD/l10n/cnied-locales (LOCPATH)."""
    d = os.path.join(os.path.abspath(ct.BUILD), "l10n", "cnied-locales")
    os.makedirs(d, exist_ok=True)
    for loc in ("ar_MA", "fr_FR"):
        if not os.path.exists("/usr/share/i18n/locales/" + loc):
            skip("no %s locale source (apt-get install locales)" % loc)
        if not os.path.exists(os.path.join(d, loc + ".UTF-8", "LC_CTYPE")):
            try:
                subprocess.run(["localedef", "-i", loc, "-f", "UTF-8",
                                os.path.join(d, loc + ".UTF-8")], check=True)
            except FileNotFoundError:
                skip("localedef missing (apt-get install locales)")
    return d


def use_locale(lang):
    """cnied (started after this) runs in lang, with the build tree's catalogues."""
    for k in ("LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANGUAGE"):
        os.environ.pop(k, None)
    os.environ["LANG"] = lang
    os.environ["CNIE_LOCALEDIR_OVERRIDE"] = os.path.join(os.path.abspath(ct.BUILD), "locale")
    if lang != "C":
        os.environ["LOCPATH"] = build_locales()
        for l in ("ar", "fr"):
            mo = os.path.join(os.environ["CNIE_LOCALEDIR_OVERRIDE"], l, "LC_MESSAGES", "cnie.mo")
            if not os.path.exists(mo):
                print("FAIL - catalogue not built: " + mo)
                sys.exit(1)


class Log:
    """The scripted pinentry's log, from a mark on."""

    def __init__(self, b):
        self.b = b
        self.start = len(b.pelines())

    def lines(self):
        return self.b.pelines()[self.start:]


def fingerprint(digest):
    h = digest[:4].hex().upper()
    return h[:4] + " " + h[4:]


def sign_body(cert, digest, **extra):
    body = {"certificate": cert, "hash": base64.b64encode(digest).decode(),
            "hashFunction": "SHA-256"}
    body.update(extra)
    return body


def case_lang(b, t):
    # The locale reaches the pinentry (its own labels).
    lg = Log(b)
    s, _, j = b.request("POST", "/v1/certificate", {"type": "sign"})
    pe = lg.lines()
    check(s == 200, "certificate: 200 (%s)" % s)
    check("OPTION lc-ctype=" + t["locale"] in pe and "OPTION lc-messages=" + t["locale"] in pe,
          "OPTION lc-ctype / lc-messages = %s sent to the pinentry" % t["locale"])
    check("TITLE " + t["cert_title"] in pe, "certificate consent: title translated")
    check(any(l.startswith("DESC ") and t["cert_desc"] in l and ORIGIN in l for l in pe),
          "certificate consent: text translated, names the origin")
    check("OKLABEL " + t["allow"] in pe and "CANCELLABEL " + t["deny"] in pe,
          "certificate consent: Allow / Deny buttons translated")
    cert = j["certificate"]

    # Signature: the portal's description, marked as its words, and the fingerprint.
    digest = hashlib.sha256(b"the document " + t["locale"].encode()).digest()
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234")
    lg = Log(b)
    s, _, j = b.request("POST", "/v1/sign", sign_body(cert, digest, description=t["description"]))
    pe = lg.lines()
    check(s == 200, "sign with a description: 200 (%s)" % s)
    desc = [l for l in pe if l.startswith("DESC ") and t["sign_desc"] in l]
    check(len(desc) == 1 and ORIGIN in desc[0], "sign consent: text translated, names the origin")
    d = desc[0] if desc else ""
    check(t["said"] in d and FSI + t["description"] + PDI in d and t["own_words"] in d,
          "sign consent: the description, isolated, marked as the site's own words")
    check(t["fingerprint"] in d and fingerprint(digest) in d,
          "sign consent: the hash's fingerprint %s" % fingerprint(digest))
    check("TITLE " + t["sign_title"] in pe and "OKLABEL " + t["allow"] in pe,
          "sign consent: title and buttons translated")

    # A wrong PIN, then the right one: one request, SETERROR before the second prompt.
    b.set_pinentry(PINENTRY_SCRIPT_PIN="9999", PINENTRY_SCRIPT_RETRY_PIN="1234")
    lg = Log(b)
    n = nonce()
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    pe = lg.lines()
    check(s == 200 and verify_token(b, j, n),
          "wrong PIN then right PIN: the login completes in one request")
    gp = [i for i, l in enumerate(pe) if l == "GETPIN"]
    err = [i for i, l in enumerate(pe) if l == "ERROR " + t["wrong2"]]
    check(len(gp) == 2 and len(err) == 1 and gp[0] < err[0] < gp[1],
          "SETERROR '%s' between the two prompts" % t["wrong2"])
    check("TITLE " + t["pin_title"] in pe and "PROMPT " + t["pin_prompt"] in pe and
          "OKLABEL " + t["continue"] in pe and "CANCELLABEL " + t["cancel"] in pe,
          "PIN dialog: title, prompt and buttons translated")
    check(any(l.startswith("DESC ") and t["login"] in l and t["enter_pin"] in l and ORIGIN in l
              for l in pe), "PIN dialog: text translated, names the origin")

    # Identity: the fields in words, then the CAN.
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234", PINENTRY_SCRIPT_CAN="123456")
    lg = Log(b)
    s, _, j = b.request("POST", "/v1/identity", {"fields": ["mrz", "names", "photo"],
                                                  "challenge": "AQIDBAUGBwg="})
    pe = lg.lines()
    check(s == 200, "identity: 200 (%s)" % s)
    d = [l for l in pe if l.startswith("DESC ") and all(i in l for i in t["id_items"])]
    check(len(d) == 1 and ORIGIN in d[0], "identity consent: each field listed in words")
    check("TITLE " + t["id_title"] in pe, "identity consent: title translated")
    check("PROMPT " + t["can_prompt"] in pe and
          any(l.startswith("DESC ") and t["can_desc"] in l for l in pe),
          "CAN dialog: prompt and text translated")

    # Nothing in English reached a dialog.
    english = [l for l in b.pelines() if l.startswith(("DESC", "TITLE", "PROMPT", "ERROR",
                                                        "OKLABEL", "CANCELLABEL")) and
               any(w in l for w in (" wants ", "Enter ", "Wrong PIN", "Allow", "Deny",
                                    " asks ", "CNIE card", "Document"))]
    check(english == [], "no English text in any dialog (%s)" % english[:2])

    # Three wrong PINs: the last try is announced, then the PIN is blocked and the
    # holder is told what to do next, in a dialog with one button.
    b.set_pinentry(PINENTRY_SCRIPT_PIN="9999")
    lg = Log(b)
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": nonce()})
    pe = lg.lines()
    check(s == 403 and err_code(j) == "pin-blocked", "three wrong PINs: 403 pin-blocked")
    check("cnie-tool pin unblock" in j["error"]["message"],
          "pin-blocked answer says how to unblock (%s)" % j["error"]["message"])
    check(pe.count("GETPIN") == 3 and any(l.startswith("ERROR " + t["last"]) for l in pe),
          "the third prompt says it is the last try")
    adv = [l for l in pe if l.startswith("DESC ") and t["blocked"] in l]
    check(pe.count("MESSAGE") == 1 and len(adv) == 1 and t["puk"] in adv[0] and
          "cnie-tool pin unblock" in adv[0] and "OKLABEL " + t["close"] in pe,
          "blocked PIN: advice dialog (MESSAGE) with the PUK and the command")
    lg = Log(b)
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": nonce()})
    pe = lg.lines()
    check(s == 403 and err_code(j) == "pin-blocked" and "GETPIN" not in pe and
          pe.count("MESSAGE") == 1,
          "already blocked: the advice instead of a PIN dialog")


def case_description(b):
    s, _, j = b.request("POST", "/v1/certificate", {"type": "sign"})
    cert = j["certificate"]
    digest = hashlib.sha256(b"a document").digest()
    bad = [("line\nbreak", "a line break"), ("tab\there", "a tab"),
           ("invoice \u202egpj.exe", "a right-to-left override"),
           ("x\u2066y\u2069", "an isolate"), ("\u200fname", "a right-to-left mark"),
           ("zero\u200bwidth", "a zero-width space"), ("c1\u0085", "a C1 control"),
           ("e" * 101, "101 characters"), ("   ", "only spaces"), ("", "empty"),
           (42, "a number"), (["a"], "an array")]
    for value, what in bad:
        lg = Log(b)
        s, _, j = b.request("POST", "/v1/sign", sign_body(cert, digest, description=value))
        msg = (j or {}).get("error", {}).get("message", "")
        check(s == 400 and err_code(j) == "bad-request" and "description" in msg and
              "CONFIRM" not in lg.lines(),
              "description with %s: 400 naming the field, no dialog (%s)" % (what, msg))
    # 100 characters of Arabic (200 bytes) pass; the text is shown as sent.
    ok = "\u0634" * 100
    lg = Log(b)
    s, _, j = b.request("POST", "/v1/sign", sign_body(cert, digest, description=ok))
    check(s == 200, "description of 100 Arabic characters: 200 (%s)" % s)
    d = [l for l in lg.lines() if l.startswith("DESC ")]
    want = 'The site describes the document as: "%s%s%s" (the site\'s own words).' % (
        FSI, ok, PDI)
    check(d and want in d[0] and ORIGIN in d[0],
          "English consent: the description, isolated and marked")
    check(d and "Document fingerprint (SHA-256): " + fingerprint(digest) in d[0],
          "English consent: fingerprint %s" % fingerprint(digest))
    # A PIN of the wrong form never reaches the card: asked again, no try spent.
    b.set_pinentry(PINENTRY_SCRIPT_PIN="12a", PINENTRY_SCRIPT_RETRY_PIN="1234")
    lg = Log(b)
    n = nonce()
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    pe = lg.lines()
    check(s == 200 and verify_token(b, j, n) and pe.count("GETPIN") == 2 and
          any(l.startswith("ERROR This is not a valid PIN") and "No try was used." in l
              for l in pe), "a PIN of the wrong form: asked again, no try used, then 200")
    lg = Log(b)
    b.set_pinentry(PINENTRY_SCRIPT_PIN="9999", PINENTRY_SCRIPT_RETRY_CANCEL="1")
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": nonce()})
    check(s == 400 and err_code(j) == "user-cancelled" and
          "ERROR Wrong PIN: 2 tries left." in lg.lines(),
          "then a wrong PIN: the card still had 3 tries (2 left), cancel -> user-cancelled")
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234")
    # Without a description: no such sentence.
    lg = Log(b)
    s, _, j = b.request("POST", "/v1/sign", sign_body(cert, digest))
    d = [l for l in lg.lines() if l.startswith("DESC ")]
    check(s == 200 and d and "describes" not in d[0] and fingerprint(digest) in d[0],
          "no description: origin and fingerprint only")


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("ar", "fr", "description"):
        print("usage: dialogs_test.py ar|fr|description")
        return 2
    name = sys.argv[1]
    use_locale(LANGS[name]["locale"] if name in LANGS else "C")
    b = ct.Bridge()
    try:
        if name in LANGS:
            case_lang(b, LANGS[name])
        else:
            case_description(b)
        check(b.alive(), "daemon did not crash")
    finally:
        b.stop()
    print("%d checks, %d failed" % (ct.checks, ct.failures))
    if ct.checks == 0:
        print("FAIL - case %s ran no check" % name)
        return 1
    return 1 if ct.failures else 0


if __name__ == "__main__":
    sys.exit(main())
