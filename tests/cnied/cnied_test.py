#!/usr/bin/env python3
"""Integration tests of cnied (src/cnied) against docs/bridge-api.md.

usage: cnied_test.py CASE      (CNIE_BUILD_DIR, CNIE_SOURCE_DIR in the environment)

Each case starts its own cnied on a free port with the in-process reference
card (a private copy of build/cards/ec: PIN tries are spent) and the scripted
pinentry (tests/harness/pinentry-script), talks HTTPS to it trusting only
STATE/ca.pem, and asserts exact outcomes.  Case "pcsc" runs under
tests/harness/with-pcscd --virtual without --reference-card.
Exit 0 when every check passed, 1 otherwise, 77 to skip.
"""
import base64
import hashlib
import http.client
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("CNIE_BUILD_DIR", "build")
SOURCE = os.environ.get("CNIE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CNIED = os.path.join(BUILD, "src", "cnied", "cnied")
PINENTRY = os.path.join(SOURCE, "tests", "harness", "pinentry-script")
ORIGIN = "https://portal.example"

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if cond:
        print("ok   - " + what)
    else:
        failures += 1
        print("FAIL - " + what)


class Bridge:
    def __init__(self, reference_card=True, extra=(), pin="1234", activation=False,
                 config=None):
        self.tmp = tempfile.mkdtemp(prefix="cnied-test-")
        if config is not None:
            os.makedirs(os.path.join(self.tmp, "cnied"))
            with open(os.path.join(self.tmp, "cnied", "cnied.conf"), "w") as f:
                f.write(config)
        self.state = os.path.join(self.tmp, "state")
        self.pelog = os.path.join(self.tmp, "pinentry.log")
        self.peenv = os.path.join(self.tmp, "pinentry.env")
        self.audit = os.path.join(self.tmp, "audit.log")
        self.set_pinentry(PINENTRY_SCRIPT_PIN=pin, PINENTRY_SCRIPT_CAN="123456")
        env = dict(os.environ)
        env.update(PINENTRY_SCRIPT_LOG=self.pelog, PINENTRY_SCRIPT_ENV=self.peenv,
                   CNIE_NO_CACHE="1", XDG_CONFIG_HOME=self.tmp)
        args = [CNIED, "--foreground", "--allow-origin", ORIGIN,
                "--pinentry", PINENTRY, "--state-dir", self.state, "--audit", self.audit]
        preexec = None
        keep = ()
        if activation:
            # systemd's sd_listen_fds protocol: the socket on fd 3, LISTEN_PID = cnied.
            self.lsock = socket.socket()
            self.lsock.bind(("127.0.0.1", 0))
            self.lsock.listen(16)
            lfd = self.lsock.fileno()
            preexec = lambda: os.dup2(lfd, 3)
            keep = (3, lfd)
            args = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh"] + args
        else:
            args += ["--listen", "127.0.0.1:0"]
        if reference_card:
            card = os.path.join(self.tmp, "card")
            shutil.copytree(os.path.join(BUILD, "cards", "ec"), card)
            args.append("--reference-card=" + card)
        args += list(extra)
        self.log = open(os.path.join(self.tmp, "cnied.log"), "w")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec, pass_fds=keep)
        portfile = os.path.join(self.state, "cnied.port")
        for _ in range(200):
            if os.path.exists(portfile) or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(portfile):
            self.stop()
            print(open(os.path.join(self.tmp, "cnied.log")).read())
            raise SystemExit("cnied did not start")
        self.port = int(open(portfile).readline().strip().rsplit(":", 1)[1])
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.state, "ca.pem"))

    def set_pinentry(self, **kv):
        with open(self.peenv, "w") as f:
            for k, v in kv.items():
                f.write("%s=%s\n" % (k, v))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        if failures == 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept " + self.tmp)

    def request(self, method, path, body=None, origin=ORIGIN, host=None, headers=None,
                ctype="application/json", timeout=60):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                        timeout=timeout)
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        c.putheader("Host", host if host is not None else "127.0.0.1:%d" % self.port)
        if origin is not None:
            c.putheader("Origin", origin)
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            if ctype is not None:
                c.putheader("Content-Type", ctype)
            c.putheader("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders(data)
        r = c.getresponse()
        raw = r.read()
        c.close()
        try:
            j = json.loads(raw) if raw else None
        except ValueError:
            j = None
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), j

    def status_ok(self):
        try:
            s, _, j = self.request("GET", "/v1/status", origin=None)
            return s == 200 and j["version"] != ""
        except Exception:
            return False

    def pelines(self):
        try:
            return open(self.pelog).read().splitlines()
        except FileNotFoundError:
            return []


def raw_status(b, data):
    """Sends raw bytes over TLS and returns the status code of the answer."""
    t = b.ctx.wrap_socket(socket.create_connection(("127.0.0.1", b.port)),
                          server_hostname="127.0.0.1")
    t.settimeout(20)
    try:
        t.sendall(data)
    except (OSError, ssl.SSLError):
        pass
    got = b""
    try:
        while b"\r\n" not in got:
            d = t.recv(4096)
            if not d:
                break
            got += d
    except (OSError, ssl.SSLError):
        pass
    t.close()
    parts = got.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def nonce():
    return base64.b64encode(os.urandom(32)).decode()


def err_code(j):
    return j["error"]["code"] if j and "error" in j else None


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def der_seq(b):
    n = len(b)
    return b"\x30" + (bytes([n]) if n < 128 else b"\x81" + bytes([n])) + b


def openssl_verify(cert_der, data, sig, algo, tmp):
    """Verifies sig over data with the certificate's key (openssl dgst hashes data)."""
    cert = os.path.join(tmp, "c.der")
    pub = os.path.join(tmp, "pub.pem")
    dat = os.path.join(tmp, "data.bin")
    sigf = os.path.join(tmp, "sig.bin")
    open(cert, "wb").write(cert_der)
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in", cert, "-pubkey", "-noout",
                    "-out", pub], check=True)
    open(dat, "wb").write(data)
    if algo.startswith("ES"):
        h = len(sig) // 2
        sig = der_seq(der_int(sig[:h]) + der_int(sig[h:]))
    open(sigf, "wb").write(sig)
    md = {"256": "-sha256", "384": "-sha384", "512": "-sha512"}[algo[2:]]
    r = subprocess.run(["openssl", "dgst", md, "-verify", pub, "-signature", sigf, dat],
                       capture_output=True, text=True)
    return r.returncode == 0 and "Verified OK" in r.stdout


def verify_token(b, tok, n, origin=ORIGIN):
    cert = base64.b64decode(tok["unverifiedCertificate"])
    algo = tok["algorithm"]
    h = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[algo[2:]]
    data = h(origin.encode()).digest() + h(n.encode()).digest()
    return openssl_verify(cert, data, base64.b64decode(tok["signature"]), algo, b.tmp)


# ---- cases -----------------------------------------------------------------

def case_status(b):
    s, h, j = b.request("GET", "/v1/status", origin=None)
    check(s == 200 and j["readers"][0]["card"] is True, "status without Origin: 200, card present")
    check(h.get("cache-control") == "no-store" and h.get("vary") == "Origin",
          "status: Cache-Control no-store, Vary Origin")
    check("access-control-allow-origin" not in h, "status without Origin: no ACAO header")
    s, h, j = b.request("GET", "/v1/status")
    check(s == 200 and h.get("access-control-allow-origin") == ORIGIN,
          "status from the allowed origin: ACAO is that exact origin")
    s, h, j = b.request("GET", "/v1/status", origin="https://second.example:8443")
    check(s == 200 and h.get("access-control-allow-origin") == "https://second.example:8443",
          "origin from the config file allowed too")
    s, h, j = b.request("GET", "/v1/status", origin="https://second.example")
    check(s == 403, "same host, other port: 403")
    mode = os.stat(os.path.join(b.state, "server.key")).st_mode & 0o777
    check(mode == 0o600, "server.key mode 0600 (got %o)" % mode)
    r = subprocess.run(["openssl", "x509", "-in", os.path.join(b.state, "ca.pem"), "-noout",
                        "-ext", "nameConstraints,basicConstraints"], capture_output=True,
                       text=True)
    check("critical" in r.stdout and "DNS:localhost" in r.stdout and "127.0.0.1" in r.stdout,
          "CA has critical name constraints to localhost/127.0.0.1/::1")
    key = open(os.path.join(b.state, "server.key")).read()
    files = os.listdir(b.state)
    check(all("PRIVATE KEY" not in open(os.path.join(b.state, f)).read()
              for f in files if f != "server.key"), "no private key but server.key on disk")
    check(key.count("PRIVATE KEY") == 2, "server.key holds exactly one key")
    # Second instance on the same state dir: refused by the lock.
    r = subprocess.run([CNIED, "--foreground", "--reference-card", "--listen", "127.0.0.1:0",
                        "--state-dir", b.state], capture_output=True, text=True, timeout=20)
    check(r.returncode != 0 and "already running" in r.stderr, "single-instance lock")
    # Port in use: reported with the program holding it.
    other = tempfile.mkdtemp(prefix="cnied-test2-")
    r = subprocess.run([CNIED, "--foreground", "--reference-card", "--listen",
                        "127.0.0.1:%d" % b.port, "--state-dir", other], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode != 0 and "in use by cnied" in r.stderr,
          "port in use reported with its holder: " + r.stderr.strip().splitlines()[-1])
    shutil.rmtree(other, ignore_errors=True)
    # Events: the stream starts with the current readers and cards.
    sock = socket.create_connection(("127.0.0.1", b.port))
    t = b.ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    t.sendall(("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n\r\n"
               % (b.port, ORIGIN)).encode())
    got = b""
    t.settimeout(10)
    while b"event: card" not in got:
        d = t.recv(4096)
        if not d:
            break
        got += d
    check(b"text/event-stream" in got and b"event: reader" in got and b'"inserted"' in got,
          "events: SSE stream with reader and card events")
    t.close()
    s, _, j = b.request("GET", "/v1/events", origin=None)
    check(s == 403 and err_code(j) == "origin-not-allowed", "events without Origin: 403")
    check(b.status_ok(), "still serving")


def case_authenticate(b):
    n = nonce()
    s, h, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    check(s == 200 and j.get("format") == "web-eid:1.0", "authenticate: 200, web-eid:1.0 token")
    check(h.get("access-control-allow-origin") == ORIGIN and h.get("cache-control") == "no-store",
          "authenticate: ACAO exact origin, no-store")
    check(set(j) == {"unverifiedCertificate", "algorithm", "signature", "format", "appVersion"},
          "token has exactly the Web eID fields")
    check(verify_token(b, j, n), "token signature verifies over H(origin)||H(nonce) (%s)"
          % j.get("algorithm"))
    check(not verify_token(b, j, n, "https://other.example"),
          "token does not verify for another origin")
    pe = b.pelines()
    check(any(l.startswith("DESC ") and ORIGIN in l and "log you in" in l for l in pe),
          "PIN dialog names the origin and the operation")
    audit = open(b.audit).read()
    fp = hashlib.sha256(base64.b64decode(j["unverifiedCertificate"])).hexdigest().upper()
    check("origin=%s op=authenticate result=ok cert-sha256=%s" % (ORIGIN, fp) in audit,
          "audit line: origin, operation, result, certificate fingerprint")
    check(n not in audit and "1234" not in audit, "audit holds no nonce, no PIN")
    s, _, j = b.request("POST", "/v1/certificate", {"type": "auth"})
    check(s == 200 and j["certificate"] and j["supportedSignatureAlgorithms"],
          "certificate (auth): 200 with algorithms")


def case_sign(b):
    s, _, j = b.request("POST", "/v1/certificate", {"type": "sign"})
    check(s == 200, "certificate (sign): 200")
    cert = j["certificate"]
    digest = hashlib.sha256(b"the document").digest()
    body = {"certificate": cert, "hash": base64.b64encode(digest).decode(),
            "hashFunction": "SHA-256"}
    s, _, j = b.request("POST", "/v1/sign", body)
    check(s == 200 and j["signatureAlgorithm"]["hashFunction"] == "SHA-256", "sign: 200")
    sig = base64.b64decode(j["signature"])
    crypto = j["signatureAlgorithm"]["cryptoAlgorithm"]
    ok = False
    if crypto == "ECC":
        # The card signed the hash itself: verify with -sigopt over the raw digest.
        cf = os.path.join(b.tmp, "s.der")
        open(cf, "wb").write(base64.b64decode(cert))
        pub = os.path.join(b.tmp, "spub.pem")
        subprocess.run(["openssl", "x509", "-inform", "DER", "-in", cf, "-pubkey", "-noout",
                        "-out", pub], check=True)
        h = len(sig) // 2
        open(os.path.join(b.tmp, "ss.der"), "wb").write(der_seq(der_int(sig[:h]) +
                                                                der_int(sig[h:])))
        open(os.path.join(b.tmp, "dg.bin"), "wb").write(digest)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-in",
                            os.path.join(b.tmp, "dg.bin"), "-sigfile",
                            os.path.join(b.tmp, "ss.der")], capture_output=True, text=True)
        ok = r.returncode == 0
    check(ok, "sign: signature verifies over the given hash")
    pe = b.pelines()
    check(any(l == "CONFIRM" for l in pe) and any("sign a document" in l and ORIGIN in l
                                                  for l in pe),
          "sign: consent dialog (CONFIRM) naming the origin")
    # Consent is asked for every signature.
    before = sum(1 for l in b.pelines() if l == "CONFIRM")
    s, _, j = b.request("POST", "/v1/sign", body)
    after = sum(1 for l in b.pelines() if l == "CONFIRM")
    check(s == 200 and after == before + 1, "sign twice: consent asked twice")
    body2 = dict(body, hash=base64.b64encode(digest[:20]).decode())
    s, _, j = b.request("POST", "/v1/sign", body2)
    check(s == 400 and err_code(j) == "bad-request", "sign: hash length != SHA-256 -> 400")
    s, _, j = b.request("POST", "/v1/certificate", {"type": "auth"})
    body3 = dict(body, certificate=j["certificate"])
    s, _, j = b.request("POST", "/v1/sign", body3)
    check(s == 400 and err_code(j) == "bad-request",
          "sign with the authentication certificate -> 400")
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234", PINENTRY_SCRIPT_DENY="1")
    s, _, j = b.request("POST", "/v1/sign", body)
    check(s == 400 and err_code(j) == "user-cancelled", "sign: consent denied -> user-cancelled")


def case_identity(b):
    s, _, j = b.request("POST", "/v1/identity", {"fields": ["mrz", "names", "photo", "raw"],
                                                  "challenge": base64.b64encode(
                                                      os.urandom(8)).decode()})
    check(s == 200, "identity: 200")
    m = j.get("mrz", {})
    check(m.get("issuingState") == "MAR" and m.get("documentNumber") and m.get("surname"),
          "identity: MRZ fields (%s %s)" % (m.get("documentNumber"), m.get("surname")))
    check(j.get("names", {}).get("fullName"), "identity: DG11 full name")
    photo = base64.b64decode(j.get("photo", {}).get("data", ""))
    check(j.get("photo", {}).get("format") in ("jpeg", "jp2") and len(photo) > 100,
          "identity: photo")
    raw = j.get("raw", {})
    check(raw.get("sod") and raw.get("com") and "1" in raw.get("dg", {}),
          "identity: raw EF.COM, EF.SOD and DGs")
    dg1 = base64.b64decode(raw["dg"]["1"])
    check(dg1[0] == 0x61, "identity: raw DG1 is the DG1 TLV")
    if "15" in raw.get("dg", {}):
        check(j.get("activeAuth", {}).get("verified") is True, "identity: Active Authentication")
    if "14" in raw.get("dg", {}):
        check(j.get("chipAuth") is True, "identity: Chip Authentication")
    pe = b.pelines()
    check(any(l.startswith("DESC ") and ORIGIN in l and "MRZ data" in l and "photo" in l
              for l in pe), "identity consent names the origin and the fields")
    check(any(l.startswith("PROMPT CAN") for l in pe), "identity: CAN asked through pinentry")
    s, _, j = b.request("POST", "/v1/identity", {"fields": ["mrz"]})
    check(s == 200 and set(j) <= {"mrz", "chipAuth"} and j["mrz"]["surname"],
          "identity with fields [mrz] answers the MRZ only (%s)" % sorted(j or {}))
    s, _, j = b.request("POST", "/v1/identity", {"fields": ["mrz", "password"]})
    check(s == 400 and err_code(j) == "bad-request", "identity: unknown field name -> 400")
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234", PINENTRY_SCRIPT_CAN="000000")
    s, _, j = b.request("POST", "/v1/identity", {"fields": ["mrz"]})
    check(s == 403 and err_code(j) == "can-incorrect", "identity: wrong CAN -> can-incorrect")


def case_pin(b):
    b.set_pinentry(PINENTRY_SCRIPT_PIN="9999")
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": nonce()})
    check(s == 403 and err_code(j) == "pin-incorrect" and j["error"].get("triesLeft") == 2,
          "wrong PIN -> 403 pin-incorrect, triesLeft 2 (%s)" % json.dumps(j))
    b.set_pinentry(PINENTRY_SCRIPT_CANCEL="1")
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": nonce()})
    check(s == 400 and err_code(j) == "user-cancelled", "cancel -> user-cancelled")
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234")
    n = nonce()
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    check(s == 200 and verify_token(b, j, n), "right PIN afterwards -> token")
    log = open(os.path.join(b.tmp, "cnied.log")).read()
    check("9999" not in log and "1234" not in log, "no PIN in the daemon's log")


def case_hostile(b):
    n = nonce()
    s, h, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n},
                        origin="https://evil.example")
    check(s == 403 and err_code(j) == "origin-not-allowed" and
          "access-control-allow-origin" not in h, "disallowed origin: 403, no ACAO")
    s, h, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n},
                        origin="https://portal.example/")
    check(s == 403, "origin with a trailing slash: 403")
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n}, origin=None)
    check(s == 403 and err_code(j) == "origin-not-allowed", "missing Origin on POST: 403")
    s, _, j = b.request("GET", "/v1/status", host="evil.example:%d" % b.port)
    check(s == 403, "rebinding Host header: 403")
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n},
                        host="127.0.0.1:1")
    check(s == 403, "Host with another port: 403")
    s, h, _ = b.request("OPTIONS", "/v1/authenticate", origin="https://evil.example",
                        headers={"Access-Control-Request-Method": "POST"})
    check(s == 403 and "access-control-allow-origin" not in h, "preflight from a bad origin: 403")
    s, h, _ = b.request("OPTIONS", "/v1/authenticate",
                        headers={"Access-Control-Request-Method": "POST",
                                 "Access-Control-Request-Private-Network": "true"})
    check(s == 204 and h.get("access-control-allow-origin") == ORIGIN and
          h.get("access-control-allow-private-network") == "true" and h.get("vary") == "Origin",
          "preflight from the allowed origin: 204, exact ACAO, Allow-Private-Network")
    s, _, _ = b.request("GET", "/v1/status", headers={"X-Big": "a" * 9000})
    check(s == 400, "headers over 8 KiB: 400 (got %d)" % s)
    s = raw_status(b, b"POST /v1/authenticate HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   b"Origin: %s\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 70000\r\n\r\n" % (b.port, ORIGIN.encode()) + b" " * 1000)
    check(s == 413, "body over 64 KiB: 413 before the body is read (got %s)" % s)
    for body, what in ((b"{", "malformed JSON"), (b"[" * 5000 + b"]" * 5000, "deeply nested"),
                       (b'{"challengeNonce":{"a":{"b":{"c":{"d":1}}}}}', "nested 5 deep"),
                       (b'["x"]', "not an object"),
                       (json.dumps({"challengeNonce": n, "extra": 1}).encode(), "unknown field"),
                       (('{"challengeNonce":"%s","challengeNonce":"%s"}' % (n, n)).encode(),
                        "duplicate key"),
                       (json.dumps({"challengeNonce": 5}).encode(), "wrong type"),
                       (json.dumps({"challengeNonce": n[:43]}).encode(), "nonce of 43 chars"),
                       (json.dumps({"challengeNonce": base64.b64encode(
                           os.urandom(31)).decode() + "AAAA"}).encode(), "nonce not base64 of 32"),
                       (json.dumps({"challengeNonce": "!" * 44}).encode(), "nonce not base64")):
        s, _, j = b.request("POST", "/v1/authenticate", body)
        check(s == 400 and err_code(j) == "bad-request", "%s: 400 bad-request" % what)
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n}, ctype="text/plain")
    check(s == 415 and err_code(j) == "bad-request", "POST without application/json: 415")
    s, _, j = b.request("POST", "/v1/nothing", {"a": 1})
    check(s == 404 and err_code(j) == "not-found", "unknown endpoint: 404")
    s, _, j = b.request("PUT", "/v1/sign", {"a": 1})
    check(s in (405, 501), "PUT: refused (%d)" % s)
    check(b.pelines() == [], "no hostile request reached the pinentry (no card access)")
    check(b.alive() and b.status_ok(), "daemon still serving after hostile requests")


def case_slowloris(b):
    """Connections dripping header bytes are dropped by the request deadline."""
    socks = []
    for _ in range(20):
        t = b.ctx.wrap_socket(socket.create_connection(("127.0.0.1", b.port)),
                              server_hostname="127.0.0.1")
        t.sendall(b"GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % b.port)
        t.settimeout(0.2)
        socks.append(t)
    check(b.status_ok(), "normal request served while 20 slow clients are connected")
    dropped = [False] * len(socks)
    # 60 drips x 0.25 s = 15 s of headers: far longer than the 2 s deadline.
    for _ in range(60):
        for i, t in enumerate(socks):
            if dropped[i]:
                continue
            try:
                t.sendall(b"X")
                if t.recv(1) == b"":
                    dropped[i] = True
            except socket.timeout:
                pass
            except (OSError, ssl.SSLError):
                dropped[i] = True
        if all(dropped):
            break
        time.sleep(0.05)
    check(all(dropped), "every slow client dropped before its headers ended (%d/%d)"
          % (sum(dropped), len(dropped)))
    for t in socks:
        t.close()
    check(b.alive() and b.status_ok(), "daemon still serving after slowloris")


def case_flood(b):
    """1,000 connections at once: the daemon survives and serves later requests."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    socks = []
    for _ in range(1000):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", b.port))
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(0.5)
    check(b.alive(), "daemon alive with 1,000 connections open")
    nfd = len(os.listdir("/proc/%d/fd" % b.proc.pid))
    check(nfd <= 256 + 32, "connection cap: the daemon holds %d fds (cap 256 connections)" % nfd)
    result = {}

    def one():
        result["ok"] = b.status_ok()
    th = threading.Thread(target=one)
    th.start()
    th.join(60)
    check(result.get("ok") is True, "a request made during the flood is served (after the "
          "idle ones time out)")
    for s in socks:
        s.close()
    time.sleep(0.5)
    check(b.alive() and b.status_ok(), "daemon still serving after the flood")
    n = nonce()
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    check(s == 200 and verify_token(b, j, n), "card operation works after the flood")


def case_pcsc(b):
    s, _, j = b.request("GET", "/v1/status")
    names = [r["name"] for r in j.get("readers", [])]
    check(s == 200 and j.get("transport") == "pcsc" and len(names) >= 2,
          "status through pcscd lists the virtual readers: %s" % names)
    with_card = [r["name"] for r in j["readers"] if r["card"]]
    n = nonce()
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    if len(with_card) > 1:
        check(s == 409 and err_code(j) == "multiple-cards",
              "two cards and no reader chosen: 409 multiple-cards")
    contact = [x for x in with_card if "Contact" in x and "less" not in x][0]
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n, "reader": contact})
    check(s == 200 and verify_token(b, j, n), "authenticate through pcscd: token verifies")
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n,
                                                      "reader": "No Such Reader"})
    check(s == 503 and err_code(j) == "no-reader", "unknown reader: 503 no-reader")
    sim = os.path.join(BUILD, "drivers", "ifd", "cnie-sim")
    pinpad = [x for x in with_card if "PIN-pad" in x]
    if pinpad and os.environ.get("CNIE_SIM_BASE"):
        # The PIN on the reader's PIN pad: no pinentry GETPIN for it.
        subprocess.run([sim, "--reader", "2", "keys", "1234"], check=True)
        before = sum(1 for l in b.pelines() if l == "GETPIN")
        n = nonce()
        s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n,
                                                          "reader": pinpad[0]})
        after = sum(1 for l in b.pelines() if l == "GETPIN")
        check(s == 200 and verify_token(b, j, n) and after == before,
              "PIN-pad reader: PIN taken on the pad, not through pinentry")
        s, _, j = b.request("GET", "/v1/status")
        pp = [r for r in j["readers"] if r["name"] == pinpad[0]]
        check(pp and pp[0]["pinpad"] is True and pp[0]["recognised"] is True,
              "status: PIN-pad reader marked pinpad and recognised")
        # Card removal: an SSE "card removed" event and the status follows.
        t = b.ctx.wrap_socket(socket.create_connection(("127.0.0.1", b.port)),
                              server_hostname="127.0.0.1")
        t.sendall(("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n\r\n"
                   % (b.port, ORIGIN)).encode())
        t.settimeout(10)
        got = b""
        while got.count(b"event: card") < len(with_card):
            got += t.recv(4096)
        subprocess.run([sim, "--reader", "0", "remove"], check=True)
        try:
            while b'"removed"' not in got:
                d = t.recv(4096)
                if not d:
                    break
                got += d
        except socket.timeout:
            pass
        t.close()
        check(b'"state":"removed"' in got and contact.encode() in got.split(b'"removed"')[0]
              .rsplit(b"event:", 1)[-1], "events: card removed from the contact reader")
        s, _, j = b.request("GET", "/v1/status")
        cr = [r for r in j["readers"] if r["name"] == contact]
        check(cr and cr[0]["card"] is False, "status: no card in the contact reader")
        s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n,
                                                          "reader": contact})
        check(s == 503 and err_code(j) == "no-card", "authenticate on the empty reader: no-card")
        # Card removed while the operation waits for the PIN: a clean error,
        # and the next request works once the card is back.
        card = os.path.join(b.tmp, "card-ec")
        shutil.copytree(os.path.join(BUILD, "cards", "ec"), card)
        subprocess.run([sim, "--reader", "0", "insert", card], check=True)
        for _ in range(100):
            s, _, j = b.request("GET", "/v1/status")
            if [r for r in j["readers"] if r["name"] == contact and r["card"]]:
                break
            time.sleep(0.05)
        b.set_pinentry(PINENTRY_SCRIPT_PIN="1234", PINENTRY_SCRIPT_SLEEP="2")
        res = {}
        before = sum(1 for l in b.pelines() if l == "GETPIN")

        def op():
            res["r"] = b.request("POST", "/v1/authenticate", {"challengeNonce": nonce(),
                                                               "reader": contact})
        th = threading.Thread(target=op)
        th.start()
        for _ in range(100):
            if sum(1 for l in b.pelines() if l == "GETPIN") > before:
                break
            time.sleep(0.05)
        subprocess.run([sim, "--reader", "0", "remove"], check=True)
        th.join(60)
        s, _, j = res.get("r", (None, None, None))
        check(s == 503 and err_code(j) == "no-card",
              "card removed during the operation: 503 no-card (%s %s)" % (s, err_code(j)))
        b.set_pinentry(PINENTRY_SCRIPT_PIN="1234")
        subprocess.run([sim, "--reader", "0", "insert", card], check=True)
        time.sleep(0.5)
        n = nonce()
        s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n,
                                                          "reader": contact})
        check(s == 200 and verify_token(b, j, n), "next request after reinsertion: token")


def case_busy(b):
    """One card operation at a time; HTTP stays responsive meanwhile."""
    # An event stream opened now must outlive the 2 s idle timeout.
    sse = b.ctx.wrap_socket(socket.create_connection(("127.0.0.1", b.port)),
                            server_hostname="127.0.0.1")
    sse.sendall(("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n\r\n"
                 % (b.port, ORIGIN)).encode())
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234", PINENTRY_SCRIPT_SLEEP="8")
    res = {}
    n = nonce()

    def first():
        res["a"] = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    th = threading.Thread(target=first)
    th.start()
    for _ in range(100):
        if "GETPIN" in b.pelines():
            break
        time.sleep(0.05)
    check("GETPIN" in b.pelines(), "first authenticate is in its PIN dialog")
    ok = b.status_ok()
    check(ok, "status answered while the card worker waits for the PIN")
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": nonce()})
    check(s == 409 and err_code(j) == "busy",
          "second card request while the first holds the card: 409 busy after the queue "
          "timeout")
    check("a" not in res, "busy answered while the first still holds the card")
    th.join(30)
    s, _, j = res.get("a", (None, None, None))
    check(s == 200 and verify_token(b, j, n), "first authenticate completes with a token "
          "(its dialog outlasted the idle timeout)")
    # A client that leaves while its operation waits for the PIN: the answer
    # has nowhere to go, the daemon carries on.
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234", PINENTRY_SCRIPT_SLEEP="1")
    t = b.ctx.wrap_socket(socket.create_connection(("127.0.0.1", b.port)),
                          server_hostname="127.0.0.1")
    body = json.dumps({"challengeNonce": nonce()}).encode()
    t.sendall(b"POST /v1/authenticate HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              % (b.port, ORIGIN.encode(), len(body), body))
    time.sleep(0.3)
    t.close()
    b.set_pinentry(PINENTRY_SCRIPT_PIN="1234")
    n = nonce()
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    check(s == 200 and verify_token(b, j, n), "next client served after one left mid-operation")
    sse.settimeout(0.5)
    open_ = True
    try:
        while True:
            if sse.recv(4096) == b"":
                open_ = False
                break
    except socket.timeout:
        pass
    except (OSError, ssl.SSLError):
        open_ = False
    sse.close()
    check(open_, "event stream still open after several idle timeouts")


def case_socket(b):
    """systemd socket activation: cnied serves on the socket it was given."""
    check(b.port == b.lsock.getsockname()[1], "port file names the inherited socket's port")
    b.lsock.close()
    check(b.status_ok(), "status served on the socket-activated listener")
    n = nonce()
    s, _, j = b.request("POST", "/v1/authenticate", {"challengeNonce": n})
    check(s == 200 and verify_token(b, j, n), "authenticate on the socket-activated listener")


def case_bridge_tool(b):
    """cnie-tool bridge status|trust (tools/cnie-tool/cmd_bridge.c)."""
    drv = os.environ.get("CNIED_BRIDGE_DRIVER")
    if not drv or not shutil.which("certutil"):
        print("SKIP: no driver or certutil")
        raise SystemExit(77)
    home = os.path.join(b.tmp, "home")
    os.makedirs(home)
    env = dict(os.environ, HOME=home)
    env.pop("XDG_STATE_HOME", None)

    def tool(*a):
        r = subprocess.run([drv, "--json", "bridge"] + list(a) + ["--state-dir", b.state],
                           capture_output=True, text=True, env=env, timeout=60)
        return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None
    rc, j = tool("status")
    check(rc == 0 and j["running"] is True and j["port"] == b.port and
          j["status"]["readers"][0]["card"] is True, "bridge status: running, port, readers")
    check(j["trustedIn"] == [], "bridge status: CA not trusted anywhere yet")
    ff = os.path.join(home, ".mozilla", "firefox", "abcd.default-release")
    os.makedirs(ff)
    subprocess.run(["certutil", "-N", "--empty-password", "-d", "sql:" + ff], check=True,
                   capture_output=True)
    rc, j = tool("trust")
    nssdb = os.path.join(home, ".pki", "nssdb")
    check(rc == 0 and sorted(j["trustedIn"]) == sorted([nssdb, ff]),
          "bridge trust: CA added to ~/.pki/nssdb and the Firefox profile")
    r = subprocess.run(["certutil", "-L", "-d", "sql:" + nssdb], capture_output=True, text=True)
    check("CNIE local bridge CA" in r.stdout and "C,," in r.stdout,
          "certutil lists the CA with trust C,,")
    rc, j = tool("status")
    check(rc == 0 and sorted(j["trustedIn"]) == sorted([nssdb, ff]),
          "bridge status reports where the CA is trusted")
    rc2, j2 = tool("trust")
    check(rc2 == 0 and len(j2["trustedIn"]) == 2, "bridge trust again: idempotent")
    b.proc.terminate()
    b.proc.wait(10)
    rc, j = tool("status")
    check(rc == 3 and j["running"] is False, "bridge status with cnied stopped: exit 3")


CASES = {"status": case_status, "authenticate": case_authenticate, "sign": case_sign,
         "identity": case_identity, "pin": case_pin, "hostile": case_hostile,
         "slowloris": case_slowloris, "flood": case_flood, "pcsc": case_pcsc,
         "socket": case_socket, "bridge_tool": case_bridge_tool, "busy": case_busy}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: cnied_test.py " + "|".join(CASES))
        return 2
    name = sys.argv[1]
    extra = []
    if name in ("slowloris", "flood"):
        extra = ["--request-timeout", "2", "--idle-timeout", "2"]
    if name == "busy":
        extra = ["--queue-timeout", "1", "--idle-timeout", "2"]
    config = None
    if name == "status":
        config = ("# cnied.conf read from $XDG_CONFIG_HOME/cnied\n"
                  "allow-origin = https://second.example:8443\n  request-timeout=5  \n")
    b = Bridge(reference_card=(name != "pcsc"), extra=extra, activation=(name == "socket"),
               config=config)
    try:
        CASES[name](b)
        check(b.alive() or name == "bridge_tool", "daemon did not crash")
    finally:
        b.stop()
    rc = b.proc.returncode
    check(rc == 0 or name == "bridge_tool", "daemon exited cleanly on SIGTERM (rc %s)" % rc)
    print("%d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
