#!/usr/bin/env python3
"""PyKCS11 on cnie-pkcs11.so with the card on the contactless reader.

usage: pykcs11_contactless.py MODULE ENVFILE PELOG PCSCDLOG OUTDIR READER

Run by tests/integration/p11_contactless.sh (under with-pcscd --virtual
--apdu-log): the pinentry is tests/harness/pinentry-script (CNIE_PINENTRY),
whose answers this program sets through ENVFILE (PINENTRY_SCRIPT_ENV) and
whose dialogs it reads back in PELOG.  PACE runs are counted in pcscd's
APDU log (PCSCDLOG: MSE:SET AT for PACE, 00 22 C1 A4), so every check is
on what the card saw.  Signatures are written to OUTDIR (hash.bin,
sig-*.der) for the caller to verify against the card's certificate with
OpenSSL.  READER (the reader's index in the PC/SC list) is where another
client, opensc-tool, sends its plain APDUs and resets the card.

Checks, in one process (one module instance):
  1. the token is there with nothing sent: fixed label, no objects before
     login, no dialog, no PACE;
  2. cancel in the CAN dialog: CKR_FUNCTION_CANCELED, no PACE, no VERIFY;
  3. a wrong CAN: one PACE, a clean CKR_FUNCTION_FAILED (never
     CKR_PIN_INCORRECT), no VERIFY, not retried by the module;
  4. the next login asks again, the dialog says the last CAN was refused;
     the right CAN: one PACE, login, objects appear, a signature;
  5. another client's plain APDUs end the session: the next signature works
     after one PACE with the kept CAN, no dialog;
  6. another client resets the card: CKR_USER_NOT_LOGGED_IN, then C_Login
     again without a dialog (one PACE), and a signature.
Prints "ok: ..." / "FAIL: ..." per check; exit 1 on any failure.
"""
import hashlib
import os
import subprocess
import sys
import time

import PyKCS11
from PyKCS11 import LowLevel

module, envfile, pelog, pcscdlog, outdir, reader = sys.argv[1:7]
fails = 0


def ok(msg):
    print("ok: " + msg, flush=True)


def fail(msg):
    global fails
    fails += 1
    print("FAIL: " + msg, flush=True)


def check(cond, msg):
    (ok if cond else fail)(msg)


def answers(**kv):
    """The scripted pinentry's answers for the next dialog."""
    with open(envfile, "w") as f:
        for k, v in kv.items():
            f.write("PINENTRY_SCRIPT_%s=%s\n" % (k, v))


def pe_lines():
    try:
        with open(pelog) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def apdus():
    """Command APDUs in pcscd's log, once it stopped growing."""
    last = None
    while True:
        with open(pcscdlog, errors="replace") as f:
            cur = [ln.split("APDU: ", 1)[1].strip() for ln in f if "APDU: " in ln]
        if cur == last:
            return cur
        last = cur
        time.sleep(0.1)


def pace_runs(cmds):
    """PACE runs since this program started."""
    return sum(1 for c in cmds[base:] if c.startswith("00 22 C1 A4"))


def verifies(cmds):
    """VERIFYs of the user PIN (plain or under SM, CLA 0C) since this program started."""
    return sum(1 for c in cmds[base:] if c[3:11] == "20 00 81" and c[:2] in ("00", "0C"))


def rv_of(fn):
    try:
        fn()
        return LowLevel.CKR_OK
    except PyKCS11.PyKCS11Error as e:
        return e.value


def name(rv):
    return PyKCS11.CKR.get(rv, hex(rv))


def der_sig(raw):
    """PKCS#11 ECDSA r || s as an ECDSA-Sig-Value (DER) for OpenSSL."""
    def integer(b):
        b = b.lstrip(b"\0") or b"\0"
        if b[0] & 0x80:
            b = b"\0" + b
        return bytes([0x02, len(b)]) + b
    half = len(raw) // 2
    body = integer(raw[:half]) + integer(raw[half:])
    return bytes([0x30, len(body)]) + body


def other_client(args):
    r = subprocess.run(["opensc-tool", "--reader", reader] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


base = 0
base = len(apdus())
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
slots = lib.getSlotList(tokenPresent=True)
check(len(slots) == 1, "one token present (slots %s)" % slots)
slot = slots[0]
ti = lib.getTokenInfo(slot)
check(ti.label.strip() == "CNIE contactless", "token label '%s'" % ti.label.strip())
check(ti.flags & LowLevel.CKF_LOGIN_REQUIRED, "CKF_LOGIN_REQUIRED")
si = lib.getSlotInfo(slot)
check("contactless: no token" not in si.slotDescription, "slot description: " + si.slotDescription.strip())

sess = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION)
objs = sess.findObjects([])
a0 = apdus()
check(len(objs) == 0, "no object before login (%d)" % len(objs))
check(pe_lines() == [], "no dialog at insertion, slot list, token info or object search")
check(pace_runs(a0) == 0, "no PACE before login (%d)" % pace_runs(a0))

# 2. Cancel.
answers(CANCEL=1)
rv = rv_of(lambda: sess.login("1234"))
a1 = apdus()
check(rv == LowLevel.CKR_FUNCTION_CANCELED, "cancel in the CAN dialog: %s" % name(rv))
check(pe_lines().count("GETPIN") == 1, "one dialog for the cancel")
check(pace_runs(a1) == 0 and verifies(a1) == 0,
      "cancel: no PACE, no VERIFY (%d, %d)" % (pace_runs(a1), verifies(a1)))

# 3. A wrong CAN.
answers(CAN="654321")
rv = rv_of(lambda: sess.login("1234"))
a2 = apdus()
check(rv == LowLevel.CKR_FUNCTION_FAILED, "wrong CAN: %s (never CKR_PIN_INCORRECT)" % name(rv))
check(pe_lines().count("GETPIN") == 2, "one dialog for the wrong CAN")
check(pace_runs(a2) == 1, "wrong CAN: exactly one PACE on the card (%d)" % pace_runs(a2))
check(verifies(a2) == 0, "wrong CAN: no VERIFY (the PIN not sent)")
check(not any(ln.startswith("ERROR") for ln in pe_lines()), "no error shown in the first dialogs")

# 4. Asked again, told why; the right CAN.
answers(CAN="123456")
rv = rv_of(lambda: sess.login("1234"))
a3 = apdus()
check(rv == LowLevel.CKR_OK, "login with the right CAN: %s" % name(rv))
lines = pe_lines()
check(lines.count("GETPIN") == 3, "the next login asked again (3 dialogs)")
errs = [ln for ln in lines if ln.startswith("ERROR")]
check(len(errs) == 1 and "did not accept" in errs[0], "the dialog says the last CAN was refused: %s" % errs)
check(any(ln.startswith("TITLE ") and "python" in ln for ln in lines),
      "the dialog names the application: %s" % [ln for ln in lines if ln.startswith("TITLE")][:1])
check(pace_runs(a3) == 2, "one more PACE (%d)" % pace_runs(a3))
check(verifies(a3) == 1, "one VERIFY (%d)" % verifies(a3))

keys = sess.findObjects([(LowLevel.CKA_CLASS, LowLevel.CKO_PRIVATE_KEY)])
certs = sess.findObjects([(LowLevel.CKA_CLASS, LowLevel.CKO_CERTIFICATE)])
check(len(keys) == 2 and len(certs) == 3, "after login: %d keys, %d certificates" % (len(keys), len(certs)))
auth = None
for k in keys:
    lab = sess.getAttributeValue(k, [LowLevel.CKA_LABEL])[0]
    if lab.startswith("Authentication"):
        auth = k
check(auth is not None, "the authentication key")

data = b"cnie contactless pykcs11 test"
digest = hashlib.sha256(data).digest()
with open(os.path.join(outdir, "data.bin"), "wb") as f:
    f.write(data)


def sign(tag):
    try:
        sig = bytes(sess.sign(auth, digest, PyKCS11.Mechanism(LowLevel.CKM_ECDSA)))
    except PyKCS11.PyKCS11Error as e:
        return e.value
    with open(os.path.join(outdir, "sig-%s.der" % tag), "wb") as f:
        f.write(der_sig(sig))
    return LowLevel.CKR_OK


rv = sign("first") if auth is not None else -1
check(rv == LowLevel.CKR_OK, "C_Sign: %s" % name(rv))

# 5. Another client's plain APDUs end the secure messaging session.
rc, out = other_client(["--send-apdu", "00:A4:00:0C:02:3F:00"])
check(rc == 0, "another client sent a plain APDU (opensc-tool exit %d: %s)" % (rc, out.strip()[-200:]))
n_pe = pe_lines().count("GETPIN")
p0 = pace_runs(apdus())
rv = sign("after-plain")
a5 = apdus()
check(rv == LowLevel.CKR_OK, "C_Sign after another client's plain APDU: %s" % name(rv))
check(pace_runs(a5) - p0 == 1, "one PACE with the kept CAN (%d)" % (pace_runs(a5) - p0))
check(pe_lines().count("GETPIN") == n_pe, "no dialog for it")

# 6. Another client resets the card: the login is gone, the CAN is not.
rc, out = other_client(["--reset", "warm"])
check(rc == 0, "another client reset the card (opensc-tool --reset exit %d: %s)" % (rc, out.strip()[-200:]))
rv = sign("after-reset")
check(rv in (LowLevel.CKR_USER_NOT_LOGGED_IN, LowLevel.CKR_OK),
      "C_Sign after the reset: %s (CKR_USER_NOT_LOGGED_IN when the card dropped the PIN)" % name(rv))
if rv == LowLevel.CKR_USER_NOT_LOGGED_IN:
    v0 = verifies(apdus())
    rv = rv_of(lambda: sess.login("1234"))
    check(rv == LowLevel.CKR_OK, "C_Login again: %s" % name(rv))
    check(verifies(apdus()) - v0 == 1, "one VERIFY for it")
    rv = sign("after-reset")
    check(rv == LowLevel.CKR_OK, "C_Sign after logging in again: %s" % name(rv))
check(pe_lines().count("GETPIN") == n_pe, "no CAN dialog after the reset (the CAN is kept)")
ti = lib.getTokenInfo(slot)
check(ti.label.strip() == "CNIE contactless", "the label did not change after PACE")
check(not ti.flags & (LowLevel.CKF_USER_PIN_COUNT_LOW | LowLevel.CKF_USER_PIN_LOCKED),
      "no PIN try spent")
sess.logout()
sess.closeSession()
print("PASS" if fails == 0 else "FAILED (%d checks)" % fails)
sys.exit(1 if fails else 0)
