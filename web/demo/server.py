#!/usr/bin/env python3
"""CNIE demo portal: a tiny HTTPS server (Python 3 standard library only).

Serves the static page (index.html, app.js, ../cnie-bridge.js, ../web-eid.js) and:
  GET  /i18n/LANG.json        the page's translations (ar, fr): the project's
                              po/LANG.po as JSON, made by the build (po/po2json.py)
                              in BUILD/po/json; --i18n-dir, else
                              $CNIE_BUILD_DIR/po/json, else web/demo/i18n
  GET  /config.json           bridge URL for the page, and --install-url (the page
                              links to it when the bridge is not installed)
  POST /api/nonce             a fresh challenge nonce (32 random bytes, base64)
  POST /api/login             {nonce, token}: verifies the Web eID token with
                              `cnie-tool verify-token --json` against the card CA
  POST /api/verify-signature  {document, certificate, signature, signatureAlgorithm}:
                              the certificate chains to the card CA (openssl verify)
                              and the signature verifies over the document (openssl dgst)
  GET  /api/bridge/status     the bridge's /v1/status, fetched by this server over
                              TLS trusting the bridge's ca.pem (for `scripts/demo --check`)

The portal origin must be HTTPS for Web eID (the card signs the origin): the
server makes a small local CA in --tls-dir on first start (its key deleted once
the server certificate is issued) and serves https://127.0.0.1:PORT.  Give that
origin to cnied with --allow-origin.  The browser must trust both the demo CA
(tls-dir/ca.pem) and the bridge CA (cnied's state-dir/ca.pem).

This is a demonstration, not a portal to deploy: nonces live in memory, there
are no user sessions beyond a login result shown to the page.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
WEB = os.path.dirname(HERE)
STATIC = {
    "/": (os.path.join(HERE, "index.html"), "text/html; charset=utf-8"),
    "/index.html": (os.path.join(HERE, "index.html"), "text/html; charset=utf-8"),
    "/app.js": (os.path.join(HERE, "app.js"), "text/javascript; charset=utf-8"),
    "/cnie-bridge.js": (os.path.join(WEB, "cnie-bridge.js"), "text/javascript; charset=utf-8"),
    "/web-eid.js": (os.path.join(WEB, "web-eid.js"), "text/javascript; charset=utf-8"),
}
BODY_MAX = 256 * 1024
NONCE_MAX_AGE = 300
HASHES = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512", "SHA-224": "sha224"}


def log(msg):
    print(f"demo-portal: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kw)


def make_tls(tls_dir):
    """Demo CA + server certificate for 127.0.0.1/localhost (openssl CLI)."""
    cert, key, ca = (os.path.join(tls_dir, n) for n in ("server.pem", "server.key", "ca.pem"))
    if os.path.exists(cert) and os.path.exists(key) and os.path.exists(ca):
        return cert, key, ca
    os.makedirs(tls_dir, mode=0o700, exist_ok=True)
    ca_key = os.path.join(tls_dir, "ca.key")
    csr = os.path.join(tls_dir, "server.csr")
    ext = os.path.join(tls_dir, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n")
    steps = [
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", ca_key, "-out", ca, "-days", "3650", "-subj", "/O=CNIE demo portal/CN=CNIE demo portal local CA",
         "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-addext", "nameConstraints=critical,permitted;IP:127.0.0.0/255.0.0.0,permitted;DNS:localhost,"
                    "permitted;IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF"],
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/O=CNIE demo portal/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "825", "-extfile", ext, "-out", cert],
    ]
    for cmd in steps:
        r = run(cmd)
        if r.returncode != 0:
            raise SystemExit(f"demo-portal: openssl failed: {' '.join(cmd)}\n{r.stderr}")
    # The CA only ever signs this one certificate: its key goes now.
    for p in (ca_key, csr, ext, os.path.join(tls_dir, "ca.srl")):
        if os.path.exists(p):
            os.remove(p)
    os.chmod(key, 0o600)
    return cert, key, ca


class Portal:
    def __init__(self, args, origin):
        self.args = args
        self.origin = origin
        self.nonces = {}  # nonce -> issue time (single use: popped on login)
        self.i18n_dir = args.i18n_dir
        if not self.i18n_dir and os.environ.get("CNIE_BUILD_DIR"):
            self.i18n_dir = os.path.join(os.environ["CNIE_BUILD_DIR"], "po", "json")
        if not self.i18n_dir:
            self.i18n_dir = os.path.join(HERE, "i18n")
        self.lock = threading.Lock()

    def issue_nonce(self):
        nonce = base64.b64encode(secrets.token_bytes(32)).decode()
        now = int(time.time())
        with self.lock:
            # Forget expired nonces; keep the table bounded.
            for n, t in list(self.nonces.items()):
                if now - t > NONCE_MAX_AGE:
                    del self.nonces[n]
            if len(self.nonces) > 10000:
                self.nonces.clear()
            self.nonces[nonce] = now
        return nonce

    def login(self, body):
        nonce, token = body.get("nonce"), body.get("token")
        if not isinstance(nonce, str) or not isinstance(token, (dict, str)):
            return 400, {"valid": False, "reason": "bad-request"}
        with self.lock:
            issued = self.nonces.pop(nonce, None)
        if issued is None:
            return 200, {"valid": False, "reason": "nonce-unknown",
                         "message": "nonce not issued by this portal or already used"}
        token_text = token if isinstance(token, str) else json.dumps(token)
        cmd = [self.args.cnie_tool, "verify-token", "--json", "--origin", self.origin, "--nonce", nonce,
               "--issued-at", str(issued), "--max-age", str(NONCE_MAX_AGE), "--ca", self.args.card_ca,
               "--token", "-"]
        r = subprocess.run(cmd, input=token_text, capture_output=True, text=True, timeout=30)
        try:
            res = json.loads(r.stdout)
        except ValueError:
            log(f"cnie-tool verify-token failed (exit {r.returncode}): {r.stderr.strip()}")
            return 500, {"valid": False, "reason": "verifier-failed", "message": r.stderr.strip()[:500]}
        if "error" in res:
            return 500, {"valid": False, "reason": res["error"].get("code", "error"),
                         "message": res["error"].get("message", "")}
        res.pop("certificate", None)
        log(f"login: valid={res.get('valid')} reason={res.get('reason')}")
        return 200, res

    def verify_signature(self, body):
        doc = body.get("document")
        cert_b64, sig_b64 = body.get("certificate"), body.get("signature")
        alg = body.get("signatureAlgorithm") or {}
        if not all(isinstance(x, str) for x in (doc, cert_b64, sig_b64)) or not isinstance(alg, dict):
            return 400, {"valid": False, "reason": "bad-request"}
        md = HASHES.get(alg.get("hashFunction", "SHA-256"))
        if md is None:
            return 400, {"valid": False, "reason": "bad-request", "message": "unknown hash function"}
        try:
            cert = base64.b64decode(cert_b64, validate=True)
            sig = base64.b64decode(sig_b64, validate=True)
        except ValueError:
            return 400, {"valid": False, "reason": "bad-request", "message": "bad base64"}
        crypto = alg.get("cryptoAlgorithm", "ECC")
        padding = alg.get("paddingScheme", "NONE")
        with tempfile.TemporaryDirectory(prefix="cnie-demo-") as d:
            cert_pem = os.path.join(d, "cert.pem")
            pub = os.path.join(d, "pub.pem")
            doc_path = os.path.join(d, "doc.bin")
            sig_path = os.path.join(d, "sig.der")
            with open(os.path.join(d, "cert.der"), "wb") as f:
                f.write(cert)
            r = run(["openssl", "x509", "-inform", "DER", "-in", os.path.join(d, "cert.der"), "-out", cert_pem])
            if r.returncode != 0:
                return 200, {"valid": False, "reason": "certificate-invalid"}
            chain = run(["openssl", "verify", "-CAfile", self.args.card_ca, cert_pem])
            if chain.returncode != 0:
                return 200, {"valid": False, "reason": "certificate-untrusted", "message": chain.stdout + chain.stderr}
            subject = run(["openssl", "x509", "-in", cert_pem, "-noout", "-subject", "-nameopt", "RFC2253"]).stdout
            run(["openssl", "x509", "-in", cert_pem, "-noout", "-pubkey", "-out", pub])
            with open(doc_path, "wb") as f:
                f.write(doc.encode("utf-8"))
            if crypto == "ECC" and not (len(sig) > 0 and sig[0] == 0x30):
                sig = ecdsa_raw_to_der(sig)
                if sig is None:
                    return 200, {"valid": False, "reason": "signature-invalid"}
            with open(sig_path, "wb") as f:
                f.write(sig)
            cmd = ["openssl", "dgst", "-" + md, "-verify", pub, "-signature", sig_path]
            if padding == "PSS":
                cmd += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]
            v = run(cmd + [doc_path])
            ok = v.returncode == 0 and "Verified OK" in v.stdout
            log(f"signature: valid={ok}")
            return 200, {"valid": ok, "reason": "ok" if ok else "signature-mismatch",
                         "subject": subject.strip().removeprefix("subject="),
                         "documentSha256": hashlib.sha256(doc.encode()).hexdigest()}

    def bridge_status(self):
        ctx = ssl.create_default_context(cafile=self.args.bridge_ca) if self.args.bridge_ca else \
            ssl.create_default_context()
        try:
            with urllib.request.urlopen(self.args.bridge.rstrip("/") + "/v1/status", context=ctx, timeout=10) as r:
                return 200, {"bridge": self.args.bridge, "status": json.loads(r.read(BODY_MAX))}
        except Exception as e:  # noqa: BLE001 - reported to the caller as is
            return 502, {"bridge": self.args.bridge, "error": str(e)}


def ecdsa_raw_to_der(raw):
    """Raw r||s (as the card answers) to DER ECDSA-Sig-Value."""
    if len(raw) == 0 or len(raw) % 2:
        return None
    half = len(raw) // 2

    def der_int(b):
        b = b.lstrip(b"\0") or b"\0"
        if b[0] & 0x80:
            b = b"\0" + b
        return b"\x02" + der_len(len(b)) + b

    def der_len(n):
        return bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xFF])

    body = der_int(raw[:half]) + der_int(raw[half:])
    return b"\x30" + der_len(len(body)) + body


def make_handler(portal):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "cnie-demo-portal"
        sys_version = ""

        def log_message(self, fmt, *a):
            if portal.args.verbose:
                log(fmt % a)

        def _send(self, status, body, ctype="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            # The page may reach only itself and the bridge.
            self.send_header("Content-Security-Policy",
                             f"default-src 'self'; connect-src 'self' {portal.args.bridge}; "
                             "img-src 'self' data:; style-src 'self' 'unsafe-inline'")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in STATIC:
                fn, ctype = STATIC[path]
                with open(fn, "rb") as f:
                    return self._send(200, f.read(), ctype)
            if path.startswith("/i18n/"):
                name = path[len("/i18n/"):]
                # Only LANG.json of a known language: never a path from the URL.
                if name in ("ar.json", "fr.json") and portal.i18n_dir:
                    fn = os.path.join(portal.i18n_dir, name)
                    if os.path.isfile(fn):
                        with open(fn, "rb") as f:
                            return self._send(200, f.read(), "application/json; charset=utf-8")
                return self._send(404, {"error": "not found"})
            if path == "/config.json":
                cfg = {"bridge": portal.args.bridge, "origin": portal.origin}
                if portal.args.install_url:
                    cfg["installUrl"] = portal.args.install_url
                return self._send(200, cfg)
            if path == "/api/bridge/status":
                return self._send(*portal.bridge_status())
            return self._send(404, {"error": "not found"})

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            try:
                n = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                return self._send(400, {"error": "bad length"})
            if n < 0 or n > BODY_MAX:
                return self._send(413, {"error": "too large"})
            raw = self.rfile.read(n) if n else b"{}"
            try:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ValueError
            except ValueError:
                return self._send(400, {"error": "bad json"})
            if path == "/api/nonce":
                return self._send(200, {"nonce": portal.issue_nonce()})
            if path == "/api/login":
                return self._send(*portal.login(body))
            if path == "/api/verify-signature":
                return self._send(*portal.verify_signature(body))
            return self._send(404, {"error": "not found"})

    return Handler


def main():
    ap = argparse.ArgumentParser(description="CNIE demo portal")
    ap.add_argument("--listen", default="127.0.0.1:8443", help="ADDR:PORT (port 0: any free port)")
    ap.add_argument("--bridge", default="https://127.0.0.1:28219", help="the bridge's URL")
    ap.add_argument("--bridge-ca", help="the bridge's CA (cnied state dir ca.pem)")
    ap.add_argument("--cnie-tool", default=shutil.which("cnie-tool") or "cnie-tool", help="cnie-tool path")
    ap.add_argument("--card-ca", required=True, help="CA of the card's certificates (PEM file or dir)")
    ap.add_argument("--tls-dir", required=True, help="where the demo CA and server certificate live")
    ap.add_argument("--port-file", help="write the origin here once listening")
    ap.add_argument("--install-url", help="where citizens download the card software (shown when the bridge is missing)")
    ap.add_argument("--i18n-dir", help="the page's JSON catalogues (default: $CNIE_BUILD_DIR/po/json, else web/demo/i18n)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    host, _, port = args.listen.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        raise SystemExit("demo-portal: listens on loopback only")
    cert, key, ca = make_tls(args.tls_dir)
    httpd = http.server.ThreadingHTTPServer((host.strip("[]"), int(port)), None)
    origin = f"https://127.0.0.1:{httpd.server_address[1]}"
    httpd.RequestHandlerClass = make_handler(Portal(args, origin))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    log(f"serving {origin}/ (demo CA: {ca})")
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(origin + "\n")
        os.replace(tmp, args.port_file)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
