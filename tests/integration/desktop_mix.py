#!/usr/bin/env python3
"""Every front end on the cards at once, as on a real desktop (issue 11,
"Done when": the coexistence run and the chaos run).

usage: desktop_mix.py coexist|chaos SECONDS P11_COEXIST MODULE CNIED CNIE_TOOL CNIE_SIM

Runs under tests/harness/with-pcscd --virtual (CNIE_SIM_BASE and
CNIE_PCSCD_RESTART come from there; CNIE_BUILD_DIR and CNIE_SOURCE_DIR from
ctest or bench/run).  Together, for SECONDS:

  PKCS#11 signers   `p11_coexist MODULE worker READER NAME` processes
                    (cnie-pkcs11.so; login, sign, every signature verified
                    against the token's certificate; log in again after a
                    removal or reset)
  cnie-tool info    a loop of `cnie-tool --json --reader R info`, the card
                    serial compared with the one the reader holds
  cnied             one daemon on the PC/SC transport, a loop of
                    POST /v1/authenticate (scripted pinentry, PIN 1234),
                    every token checked with `cnie-tool verify-token`

coexist: one card (reader 0), no card movement, two signers: any failed
         operation fails the run.
chaos:   two readers (0: the EC card, 2: the RSA card: a result from the
         wrong card shows), random remove / insert / reset on each every
         50-500 ms (cnie-sim), three signers (two on reader 0, one on
         reader 2), cnied on reader 0, cnie-tool on both, and pcscd
         stopped and started again mid-run ($CNIE_PCSCD_RESTART).  Fails on
         a crash, a hang (one operation > 10 s), a wrong result (a
         signature or token that does not verify, another card's serial) or
         a PIN try lost; clean errors are counted by kind and printed.

cnied authenticates on reader 0 only: the PIN-pad reader would take its
PIN from the pad (cnie-sim keys), which a loop cannot time against the
signers there.  Prints operations per kind, errors by kind (an unclean one,
cnie-tool exit 1 or cnied 502, with its message and debug log), card
events, the pcscd restart's recovery time as cnied's status shows it,
crashes, hangs, wrong results and the PIN tries left.  Exit 0 when the run
holds.  $DESKTOP_MIX_LOG_DIR: each PKCS#11 signer's CNIE_LOG=debug log in a
file there (to find the cause of an unclean error).
"""
import base64
import collections
import http.client
import json
import os
import random
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HANG_S = 10
ORIGIN = "https://portal.example"
CONTACT = "CNIE Virtual Contact Reader"
PINPAD = "CNIE Virtual PIN-pad Reader"

if len(sys.argv) != 8 or sys.argv[1] not in ("coexist", "chaos"):
    sys.exit("usage: desktop_mix.py coexist|chaos SECONDS P11_COEXIST MODULE CNIED "
             "CNIE_TOOL CNIE_SIM")
MODE, SECONDS = sys.argv[1], float(sys.argv[2])
P11, MODULE, CNIED, TOOL, SIM = sys.argv[3:8]
BUILD = os.environ["CNIE_BUILD_DIR"]
SOURCE = os.environ.get("CNIE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CA = os.path.join(BUILD, "cards", "pki", "citizen-ca.pem")
CHAOS = MODE == "chaos"
# Reader index -> (name prefix, card directory).
READERS = {0: (CONTACT, os.path.join(BUILD, "cards", "ec"))}
if CHAOS:
    READERS[2] = (PINPAD, os.path.join(BUILD, "cards", "rsa"))

lock = threading.Lock()
ops = collections.Counter()           # kind -> successful operations
errors = collections.defaultdict(collections.Counter)   # kind -> error -> count
bad = collections.Counter()           # crash / hang / wrong -> count
notes = []
stop = threading.Event()


def count(kind, error=None):
    with lock:
        if error is None:
            ops[kind] += 1
        else:
            errors[kind][error] += 1


def failure(what, msg):
    with lock:
        bad[what] += 1
        if len(notes) < 20:
            notes.append("%s: %s" % (what.upper(), msg))


last_stderr = threading.local()


def run_tool(args, timeout=HANG_S, stdin=None):
    """(returncode, stdout); returncode None on a hang (the process is killed)."""
    try:
        r = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout)
        last_stderr.text = r.stderr
        return r.returncode, r.stdout
    except subprocess.TimeoutExpired:
        return None, ""


def card_info(index, verbose=False):
    rc, out = run_tool([TOOL, "--json", "--reader", READERS[index][0]] +
                       (["-v", "-v"] if verbose else []) + ["info"])
    try:
        return rc, json.loads(out) if out else None
    except ValueError:
        return rc, None


# ---- cnie-tool info ------------------------------------------------------
def tool_loop(serials):
    i = 0
    while not stop.is_set():
        idx = list(READERS)[i % len(READERS)]
        i += 1
        kind = "cnie-tool info"
        # Debug log kept for an unclean error (which step, which status).
        rc, j = card_info(idx, verbose=True)
        if rc is None:
            failure("hang", "cnie-tool info on reader %d took more than %d s" % (idx, HANG_S))
        elif rc < 0:
            failure("crash", "cnie-tool info: signal %d" % -rc)
        elif rc == 0:
            serial = (j or {}).get("card", {}).get("serial") if j else None
            if serial != serials[idx]:
                failure("wrong", "cnie-tool info on reader %d: serial %s, the card there is %s"
                        % (idx, serial, serials[idx]))
            else:
                count(kind)
        else:
            code = ((j or {}).get("error") or {}).get("code", "?")
            count(kind, "exit %d %s" % (rc, code))
            if rc != 3:
                with lock:
                    if len(notes) < 20:
                        notes.append("cnie-tool info exit %d on reader %d: %s; its log ends:"
                                     "\n    %s" % (rc, idx, json.dumps((j or {}).get("error")),
                                                   "\n    ".join(getattr(
                                                       last_stderr, "text", "").splitlines()[-8:])))
        time.sleep(0.02)


# ---- cnied ---------------------------------------------------------------
class Cnied:
    def __init__(self, tmp):
        self.state = os.path.join(tmp, "cnied")
        env = dict(os.environ, PINENTRY_SCRIPT_PIN="1234", CNIE_NO_CACHE="1",
                   XDG_CONFIG_HOME=tmp)
        self.log = open(os.path.join(tmp, "cnied.log"), "w")
        self.proc = subprocess.Popen(
            [CNIED, "--foreground", "--listen", "127.0.0.1:0", "--allow-origin", ORIGIN,
             "--pinentry", os.path.join(SOURCE, "tests", "harness", "pinentry-script"),
             "--state-dir", self.state], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        portfile = os.path.join(self.state, "cnied.port")
        for _ in range(200):
            if os.path.exists(portfile) and os.path.getsize(portfile) > 0:
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(portfile):
            self.proc.kill()
            sys.exit("desktop_mix: cnied did not start; its log:\n" +
                     open(os.path.join(tmp, "cnied.log")).read()[-2000:])
        self.port = int(open(portfile).read().split()[0].rsplit(":", 1)[1])
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.state, "ca.pem"))

    def request(self, method, path, body=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                        timeout=HANG_S)
        h = {"Origin": ORIGIN}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            c.request(method, path, data, h)
            r = c.getresponse()
            raw = r.read()
        finally:
            c.close()
        try:
            return r.status, json.loads(raw) if raw else None
        except ValueError:
            return r.status, None

    def reader(self, prefix):
        _, j = self.request("GET", "/v1/status")
        for r in (j or {}).get("readers", []):
            if r["name"].startswith(prefix):
                return r["name"], r.get("card")
        return None, None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                failure("hang", "cnied did not stop within 10 s")
        self.log.close()


def cnied_loop(d, reader):
    kind = "cnied authenticate"
    while not stop.is_set():
        nonce = base64.b64encode(os.urandom(32)).decode()
        try:
            s, j = d.request("POST", "/v1/authenticate", {"challengeNonce": nonce,
                                                           "reader": reader})
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            if d.proc.poll() is not None:
                failure("crash", "cnied exited (%s)" % d.proc.returncode)
                return
            if "timed out" in str(e):
                failure("hang", "/v1/authenticate took more than %d s" % HANG_S)
            else:
                count(kind, "connection: %s" % type(e).__name__)
            continue
        if s == 200:
            rc, _ = run_tool([TOOL, "verify-token", "--origin", ORIGIN, "--nonce", nonce,
                              "--ca", CA, "--token", "-"], stdin=json.dumps(j))
            if rc == 0:
                count(kind)
            else:
                failure("wrong", "a cnied token does not verify (verify-token exit %s)" % rc)
        else:
            code = ((j or {}).get("error") or {}).get("code", "?")
            count(kind, "%d %s" % (s, code))
        time.sleep(0.02)


# ---- card events and pcscd -------------------------------------------------
events = collections.Counter()
pcscd_lock = threading.Lock()   # no card event while pcscd is down


def event_loop(idx, rng):
    present = True
    card = READERS[idx][1]
    while not stop.is_set():
        time.sleep(rng.uniform(0.05, 0.5))
        if stop.is_set():
            break
        what = "insert" if not present else rng.choice(("remove", "reset"))
        args = [SIM, "--reader", str(idx), what] + ([card] if what == "insert" else [])
        with pcscd_lock:
            rc, _ = run_tool(args)
        if rc == 0:
            with lock:
                events[(idx, what)] += 1
            present = what != "remove"
    if not present:
        # The card goes back for the final PIN-tries check; on a busy machine
        # cnie-sim may time out, so it is asked again (an insert is idempotent
        # for the check: the same card).
        for _ in range(20):
            rc, _ = run_tool([SIM, "--reader", str(idx), "insert", card])
            if rc == 0:
                break
            time.sleep(0.25)
        else:
            failure("card", "reader %d: the card could not be inserted back at the end" % idx)


def restart_pcscd(d, at):
    """Stops pcscd at `at` s and starts it 1 s later (the card state kept);
    prints how long until cnied's /v1/status shows the card again (the
    PKCS#11 module's own figure: integration.p11_coexist_restart and
    integration.nss_restart)."""
    script = os.environ["CNIE_PCSCD_RESTART"]
    if stop.wait(at):
        return
    with pcscd_lock:
        if subprocess.run([script, "stop"]).returncode != 0:
            failure("crash", "pcscd could not be stopped")
            return
        time.sleep(1.0)
        if subprocess.run([script, "start"]).returncode != 0:
            failure("crash", "pcscd could not be started again")
            return
        t0 = time.monotonic()
        seen = None
        # Card events wait meanwhile: the card stays where it was.
        while time.monotonic() - t0 < 15 and seen is None:
            try:
                if d.reader(CONTACT)[1]:
                    seen = time.monotonic() - t0
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
    with lock:
        events["pcscd restart"] += 1
        notes.append("pcscd restarted: cnied's /v1/status shows the card %s after pcscd is back"
                     % ("%.2f s" % seen if seen is not None else "NOT within 15 s"))


# ---- PKCS#11 signers --------------------------------------------------------
signers = []


def start_signer(idx, name):
    """$DESKTOP_MIX_LOG_DIR: each signer's debug log (CNIE_LOG=debug) in a file there."""
    env = dict(os.environ, CNIE_NO_CACHE="1")
    err = subprocess.PIPE
    logdir = os.environ.get("DESKTOP_MIX_LOG_DIR")
    if logdir:
        env["CNIE_LOG"] = "debug"
        err = open(os.path.join(logdir, "signer%d.log" % (len(signers) + 1)), "w")
    p = subprocess.Popen([P11, MODULE, "worker", READERS[idx][0], name],
                         stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    signers.append((p, name))


def reap_signer(p, name):
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=HANG_S + 5)
        err = err or ""
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        err = err or ""
        failure("hang", "%s did not stop within %d s of SIGTERM" % (name, HANG_S + 5))
        return
    if p.returncode == -signal.SIGALRM:
        failure("hang", "%s: an operation took more than %d s" % (name, HANG_S))
    elif p.returncode < 0:
        failure("crash", "%s: signal %d" % (name, -p.returncode))
    elif p.returncode == 3:
        failure("wrong", "%s: a signature did not verify" % name)
    elif p.returncode != 0:
        failure("crash", "%s: exit %d: %s" % (name, p.returncode, err.strip()[-300:]))
    for line in out.splitlines():
        if line.startswith(name + ":") and "other errors (first:" in line and \
                " 0 other errors" not in line:
            with lock:
                notes.append(line)
        if line.startswith(name + ": ops="):
            f = dict(kv.split("=", 1) for kv in line[len(name) + 2:].split())
            with lock:
                ops["pkcs11 sign"] += int(f["ops"])
                for kv in f["kinds"].split(","):
                    if kv != "-":
                        k, n = kv.rsplit(":", 1)
                        errors["pkcs11 sign"][k] += int(n)


def main():
    tmp = tempfile.mkdtemp(prefix="desktop-mix-")
    serials = {}
    for idx in READERS:
        rc, j = card_info(idx)
        if rc != 0 or not j:
            sys.exit("desktop_mix: no card in reader %d at the start (cnie-tool exit %s)"
                     % (idx, rc))
        serials[idx] = j["card"]["serial"]
        if serials[idx] is None:
            sys.exit("desktop_mix: no serial")
    tries0 = {idx: card_info(idx)[1]["pin"]["tries_left"] for idx in READERS}
    d = Cnied(tmp)
    contact, _ = d.reader(CONTACT)
    if contact is None:
        d.stop()
        sys.exit("desktop_mix: cnied does not list %s" % CONTACT)
    threads = []
    start_signer(0, "signer 1 (reader 0)")
    start_signer(0, "signer 2 (reader 0)")
    if CHAOS:
        start_signer(2, "signer 3 (reader 2)")
    threads.append(threading.Thread(target=tool_loop, args=(serials,)))
    threads.append(threading.Thread(target=cnied_loop, args=(d, contact)))
    rng = random.Random(os.getpid())
    if CHAOS:
        for idx in READERS:
            threads.append(threading.Thread(target=event_loop,
                                            args=(idx, random.Random(rng.random()))))
        threads.append(threading.Thread(target=restart_pcscd, args=(d, SECONDS * 0.4)))
    t0 = time.monotonic()
    for t in threads:
        t.start()
    stop.wait(SECONDS)
    stop.set()
    for t in threads:
        t.join(HANG_S * 3)
        if t.is_alive():
            failure("hang", "a client thread did not finish")
    for p, name in signers:
        reap_signer(p, name)
    elapsed = time.monotonic() - t0
    if d.proc.poll() is not None:
        failure("crash", "cnied exited with %s" % d.proc.returncode)
    d.stop()
    # PIN tries: the card's own counter through cnie-tool.
    lost = False
    tries = {}
    for idx in READERS:
        rc, j = None, None
        for _ in range(50):
            rc, j = card_info(idx)
            if rc == 0:
                break
            time.sleep(0.1)
        tries[idx] = j["pin"]["tries_left"] if rc == 0 and j else None
        lost = lost or tries[idx] != tries0[idx]

    print("desktop %s: %.0f s, %s" % (MODE, elapsed, "one card, no card movement" if not CHAOS
                                       else "two readers, random card events, pcscd restarted"))
    if CHAOS:
        for idx in READERS:
            e = {w: events[(idx, w)] for w in ("remove", "insert", "reset")}
            print("  card events reader %d: %d (%d removals, %d insertions, %d resets)"
                  % (idx, sum(e.values()), e["remove"], e["insert"], e["reset"]))
        print("  card events total: %d, pcscd restarts: %d" % (
            sum(v for k, v in events.items() if k != "pcscd restart"), events["pcscd restart"]))
    failed_ops = 0
    for kind in ("pkcs11 sign", "cnied authenticate", "cnie-tool info"):
        errs = errors.get(kind, {})
        failed_ops += sum(errs.values())
        print("  %-20s %6d operations, errors by kind: %s" % (
            kind, ops[kind], ", ".join("%s=%d" % kv for kv in sorted(errs.items())) or "none"))
    for n in notes:
        print("  " + n)
    print("  crashes %d, hangs %d, wrong results %d, PIN tries left %s (at the start %s)"
          % (bad["crash"], bad["hang"], bad["wrong"],
             ", ".join("reader %d: %s" % kv for kv in tries.items()),
             ", ".join("reader %d: %s" % kv for kv in tries0.items())))
    ok = bad["crash"] == 0 and bad["hang"] == 0 and bad["wrong"] == 0 and not lost
    for kind in ("pkcs11 sign", "cnied authenticate", "cnie-tool info"):
        if ops[kind] == 0:
            print("  FAIL: no successful %s at all" % kind)
            ok = False
    if not CHAOS and failed_ops:
        print("  FAIL: %d failed operations with no card movement" % failed_ops)
        ok = False
    if CHAOS and sum(v for k, v in events.items() if k != "pcscd restart") < SECONDS:
        print("  FAIL: too few card events")
        ok = False
    if lost:
        print("  FAIL: PIN tries lost")
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("  (cnied log kept in %s)" % tmp)
    print("desktop %s: %s" % (MODE, "passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
