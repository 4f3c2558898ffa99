#!/usr/bin/env python3
"""Kiosk mode of cnied (src/cnied/kiosk.c, docs/kiosk.md) and its config file.

usage: kiosk_test.py CASE      (CNIE_BUILD_DIR, CNIE_SOURCE_DIR in the environment)

  config   etc/cnied.conf.example: cnied parses it (--check-config), every
           key cnied's parser knows is documented there and every key there
           is one cnied knows, every commented-out setting parses once
           uncommented; bad values and a kiosk config without allow-origin or
           allow-user are refused with a message naming what is wrong.
  refcard  cnied --kiosk on the in-process reference card (no PIN pad): no
           dialog is ever started; the certificate is read with no consent
           dialog (consent is the kiosk page's), a PIN operation answers 422
           pinpad-required, the identity (needs the CAN) answers 422
           pace-reader-required; --public-dir gets ca.pem and cnied.port
           (0644, same bytes) and a group-writable public dir is refused.
  pcsc     under tests/harness/with-pcscd --virtual: the PIN-pad reader logs
           in with the PIN typed on its pad (cnie-sim keys), the contact
           reader without PIN pad answers pinpad-required; no dialog.

Exit 0 when every check passed, 1 otherwise (also when a case ran no check).
"""
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cnied_test as ct  # noqa: E402  (Bridge, check, counters)

EXAMPLE = os.path.join(ct.SOURCE, "etc", "cnied.conf.example")
ME = pwd.getpwuid(os.geteuid()).pw_name
NONCE = "A" * 44
KEY_RE = re.compile(r"^(#\s?)?([a-z][a-z-]*) = ")


def run_check_config(path, *extra):
    env = dict(os.environ, XDG_CONFIG_HOME="/nonexistent")
    return subprocess.run([ct.CNIED, "--config", path, "--check-config", *extra],
                          capture_output=True, text=True, timeout=30, env=env)


def keys_of(text, commented=True):
    out = set()
    for line in text.splitlines():
        m = KEY_RE.match(line)
        if m and (commented or m.group(1) is None):
            out.add(m.group(2))
    return out


def case_config(tmp):
    text = open(EXAMPLE).read()
    # The example names the kiosk user "kiosk"; this machine has none.
    mine = os.path.join(tmp, "cnied.conf")
    with open(mine, "w") as f:
        f.write(text.replace("allow-user = kiosk", "allow-user = " + ME))
    r = run_check_config(mine)
    ct.check(r.returncode == 0, "the example parses (rc %d: %s)" % (r.returncode, r.stderr.strip()))
    ct.check("kiosk = true" in r.stdout.splitlines(), "kiosk = true is in effect")
    ct.check("allow-origin = https://guichet.example" in r.stdout.splitlines(),
             "the example's allow-origin is in effect")
    ct.check("allow-user = %d" % os.geteuid() in r.stdout.splitlines(),
             "allow-user is in effect (as a uid)")
    known = keys_of(r.stdout)
    documented = keys_of(text)
    ct.check(len(known) >= 14, "--check-config lists every key (%d)" % len(known))
    ct.check(known == documented, "the example documents exactly cnied's keys "
             "(missing: %s, unknown: %s)" % (sorted(known - documented), sorted(documented - known)))
    for k in sorted(known):
        ct.check(re.search(r"^# %s: " % re.escape(k), text, re.M) is not None,
                 "key %s has its explanation" % k)
    # Every commented-out setting, uncommented, is accepted too.
    allon = os.path.join(tmp, "all.conf")
    with open(allon, "w") as f:
        for line in text.splitlines():
            m = KEY_RE.match(line)
            if m and m.group(1) is not None:
                line = line[len(m.group(1)):]
            f.write(line.replace("allow-user = kiosk", "allow-user = " + ME) + "\n")
    r = run_check_config(allon)
    ct.check(r.returncode == 0, "every setting uncommented parses (%s)" % r.stderr.strip())
    ct.check("public-dir = /run/cnied" in r.stdout.splitlines() and
             "audit = /var/lib/cnied/audit.log" in r.stdout.splitlines(),
             "uncommented settings are in effect")
    # Bad lines: refused, naming the file and line.
    for bad, what in (("kiosk = yes\n", "kiosk = yes"), ("no-such-key = 1\n", "an unknown key"),
                      ("pin-timeout = 0\n", "pin-timeout out of range"),
                      ("allow-origin = https://a.example/\n", "an origin with a path"),
                      ("kiosk\n", "a line without =")):
        p = os.path.join(tmp, "bad.conf")
        with open(p, "w") as f:
            f.write("# a comment\n" + bad)
        r = run_check_config(p)
        ct.check(r.returncode == 2 and (p + ":2: bad setting" in r.stderr or "origin" in r.stderr),
                 "%s is refused with its line (%s)" % (what, r.stderr.strip()))
    # Kiosk mode without the settings it needs.
    p = os.path.join(tmp, "k.conf")
    with open(p, "w") as f:
        f.write("kiosk = true\nallow-user = %s\n" % ME)
    r = run_check_config(p)
    ct.check(r.returncode == 2 and "kiosk mode needs allow-origin" in r.stderr,
             "kiosk without allow-origin is refused (%s)" % r.stderr.strip())
    with open(p, "w") as f:
        f.write("kiosk = true\nallow-origin = https://guichet.example\n")
    r = run_check_config(p)
    ct.check(r.returncode == 2 and "kiosk mode needs allow-user" in r.stderr,
             "kiosk without allow-user is refused (%s)" % r.stderr.strip())
    # The command line's --kiosk needs them too; kiosk = false in the file is overridden.
    with open(p, "w") as f:
        f.write("kiosk = false\n")
    r = run_check_config(p, "--kiosk")
    ct.check(r.returncode == 2 and "kiosk mode needs allow-origin" in r.stderr,
             "--kiosk overrides kiosk = false and is checked")


def kiosk_bridge(public=None, reference_card=True):
    extra = ["--kiosk", "--allow-user", ME]
    if public is not None:
        extra += ["--public-dir", public]
    return ct.Bridge(reference_card=reference_card, extra=extra)


def code(j):
    return (j or {}).get("error", {}).get("code")


def case_refcard(tmp):
    public = os.path.join(tmp, "public")
    os.mkdir(public, 0o755)
    os.chmod(public, 0o755)
    b = kiosk_bridge(public)
    try:
        s, _, j = b.request("POST", "/v1/certificate", {"type": "auth"})
        ct.check(s == 200 and "certificate" in (j or {}),
                 "certificate read with no consent dialog (%d %s)" % (s, code(j)))
        s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": NONCE})
        ct.check(s == 422 and code(j) == "pinpad-required",
                 "authenticate on a reader without PIN pad: 422 pinpad-required (%d %s)" % (s, code(j)))
        ct.check("PIN pad" in (j or {}).get("error", {}).get("message", ""),
                 "the message says to use a PIN pad")
        s, _, j = b.request("POST", "/v1/identity", {"fields": ["names"]})
        ct.check(s == 422 and code(j) == "pace-reader-required",
                 "identity (needs the CAN): 422 pace-reader-required (%d %s)" % (s, code(j)))
        ct.check(b.pelines() == [], "no dialog was started (pinentry log: %s)" % b.pelines()[:3])
        for name in ("ca.pem", "cnied.port"):
            p = os.path.join(public, name)
            ok = os.path.isfile(p)
            ct.check(ok and stat.S_IMODE(os.stat(p).st_mode) == 0o644,
                     "public-dir/%s exists, mode 0644" % name)
            ct.check(ok and open(p, "rb").read() == open(os.path.join(b.state, name), "rb").read(),
                     "public-dir/%s is the state dir's" % name)
        ct.check(not any(n.endswith(".key") for n in os.listdir(public)), "no key in public-dir")
        ct.check(b.alive(), "daemon alive")
    finally:
        b.stop()
    ct.check(b.proc.returncode == 0, "cnied exited cleanly on SIGTERM (rc %s)" % b.proc.returncode)
    ct.check(not os.path.exists(os.path.join(public, "cnied.port")),
             "the public port file goes when cnied stops")
    # A public dir others may write to: refused at start.
    os.chmod(public, 0o775)
    r = subprocess.run([ct.CNIED, "--foreground", "--kiosk", "--allow-user", ME, "--allow-origin",
                        ct.ORIGIN, "--listen", "127.0.0.1:0", "--state-dir",
                        os.path.join(tmp, "st2"), "--public-dir", public,
                        "--reference-card=" + os.path.join(ct.BUILD, "cards", "ec")],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, XDG_CONFIG_HOME="/nonexistent"))
    ct.check(r.returncode != 0 and "writable by nobody else" in r.stderr,
             "a group-writable public-dir is refused (%s)" % r.stderr.strip()[-120:])


def case_pcsc(tmp):
    sim = os.path.join(ct.BUILD, "drivers", "ifd", "cnie-sim")
    b = kiosk_bridge(reference_card=False)
    try:
        s, _, j = b.request("GET", "/v1/status", origin=None)
        readers = (j or {}).get("readers", [])
        pad = [r["name"] for r in readers if "PIN-pad" in r["name"]]
        contact = [r["name"] for r in readers if "Contact Reader" in r["name"]]
        ct.check(len(pad) == 1 and len(contact) == 1, "the virtual readers are listed")
        if not pad or not contact:
            return
        subprocess.run([sim, "--reader", "2", "keys", "-"], input="1234\n", text=True, check=True)
        s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": NONCE, "reader": pad[0]})
        ct.check(s == 200 and (j or {}).get("format") == "web-eid:1.0",
                 "login with the PIN typed on the PIN pad (%d %s)" % (s, code(j)))
        s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": NONCE, "reader": contact[0]})
        ct.check(s == 422 and code(j) == "pinpad-required",
                 "the contact reader without PIN pad: pinpad-required (%d %s)" % (s, code(j)))
        # A contactless card on a reader that runs PACE itself (virtual reader
        # 3, PC/SC part 10 amendment 1): the CAN and then the PIN are typed on
        # its keypad, so the kiosk logs in with no dialog and no CAN on the PC.
        pace = [r["name"] for r in readers if "PACE" in r["name"]]
        ct.check(len(pace) == 1, "the PACE reader is listed (%s)" % pace)
        if pace:
            subprocess.run([sim, "--reader", "3", "insert", os.path.join(ct.BUILD, "cards", "ec")],
                           check=True)
            for _ in range(50):
                s, _, j = b.request("GET", "/v1/status", origin=None)
                if any(r["name"] == pace[0] and r["card"] for r in (j or {}).get("readers", [])):
                    break
                time.sleep(0.1)
            subprocess.run([sim, "--reader", "3", "keys", "-"], input="123456 1234\n", text=True,
                           check=True)
            s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": NONCE,
                                                              "reader": pace[0]})
            ct.check(s == 200 and (j or {}).get("format") == "web-eid:1.0",
                     "contactless login on the PACE reader's keypad (%d %s)" % (s, code(j)))
        ct.check(b.pelines() == [], "no dialog was started")
    finally:
        b.stop()
    ct.check(b.proc.returncode == 0, "cnied exited cleanly on SIGTERM (rc %s)" % b.proc.returncode)


CASES = {"config": case_config, "refcard": case_refcard, "pcsc": case_pcsc}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: kiosk_test.py " + "|".join(CASES))
        return 2
    tmp = tempfile.mkdtemp(prefix="cnied-kiosk-")
    try:
        CASES[sys.argv[1]](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed" % (ct.checks, ct.failures))
    if ct.checks == 0:
        print("FAIL - case ran no check")
        return 1
    return 1 if ct.failures else 0


if __name__ == "__main__":
    sys.exit(main())
