// Unit tests of the Web eID-compatible API (web/web-eid.js) under Node with
// a fake fetch: Web eID's argument and result shapes, every bridge error
// turned into the Web eID error a Web eID portal handles (name, code,
// instanceof Error) with the bridge's code kept in cnieCode, client-side
// refusals before any request, one action of a kind at a time.  The same
// API runs against the real bridge in headless Chromium (demo.test.mjs,
// from the npm-packed package).  Run: node webeid-compat.test.mjs.
import assert from "node:assert/strict";
import * as webeid from "../../web/web-eid.js";

const NONCE = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const CERT = "MIIBszCCAVmgAwIBAgIUMA==";
const calls = [];
function reply(status, body) {
  return async (url, init) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  };
}
function bridgeError(status, code, extra = {}) {
  return reply(status, { error: { code, message: `bridge says ${code}`, ...extra } });
}
async function rejects(p, code, name, extra = {}) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error, `not an Error: ${e}`);
    assert.ok(e instanceof webeid.WebEidError);
    assert.equal(e.code, code);
    assert.equal(e.name, name);
    assert.equal(typeof e.message, "string");
    for (const [k, v] of Object.entries(extra)) assert.equal(e[k], v, k);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const tests = {
  async "ErrorCode values are Web eID's strings"() {
    for (const [k, v] of Object.entries(webeid.ErrorCode)) assert.equal(k, v);
    for (const k of ["ERR_WEBEID_USER_CANCELLED", "ERR_WEBEID_USER_TIMEOUT", "ERR_WEBEID_ACTION_TIMEOUT",
      "ERR_WEBEID_EXTENSION_UNAVAILABLE", "ERR_WEBEID_NATIVE_UNAVAILABLE", "ERR_WEBEID_CONTEXT_INSECURE",
      "ERR_WEBEID_NATIVE_FATAL", "ERR_WEBEID_NATIVE_INVALID_ARGUMENT", "ERR_WEBEID_UNKNOWN_ERROR",
      "ERR_WEBEID_ACTION_PENDING", "ERR_WEBEID_MISSING_PARAMETER", "ERR_WEBEID_VERSION_MISMATCH",
      "ERR_WEBEID_VERSION_INVALID"]) assert.equal(webeid.ErrorCode[k], k);
    assert.equal(webeid.Action.AUTHENTICATE, "web-eid:authenticate");
    assert.equal(webeid.config.DEFAULT_USER_INTERACTION_TIMEOUT, 120000);
  },
  async "authenticate(challengeNonce, options) posts the nonce and returns exactly the token's fields"() {
    const token = { unverifiedCertificate: CERT, algorithm: "ES256", signature: "AA==", format: "web-eid:1.0",
      appVersion: "https://example/v1" };
    webeid.configure({ url: "https://127.0.0.1:28219", fetchImpl: reply(200, { ...token, extra: 1 }) });
    calls.length = 0;
    assert.deepEqual(await webeid.authenticate(NONCE, { lang: "fr", userInteractionTimeout: 5000 }), token);
    assert.equal(calls[0].url, "https://127.0.0.1:28219/v1/authenticate");
    assert.deepEqual(JSON.parse(calls[0].init.body), { challengeNonce: NONCE });
  },
  async "the reader option (CNIE addition) selects the reader"() {
    webeid.configure({ fetchImpl: reply(200, { certificate: CERT, supportedSignatureAlgorithms: [] }) });
    calls.length = 0;
    await webeid.getSigningCertificate({ reader: "R 1" });
    assert.deepEqual(JSON.parse(calls[0].init.body), { type: "sign", reader: "R 1" });
  },
  async "getSigningCertificate returns certificate and supportedSignatureAlgorithms"() {
    const algs = [{ cryptoAlgorithm: "ECC", hashFunction: "SHA-256", paddingScheme: "NONE" }];
    webeid.configure({ fetchImpl: reply(200, { certificate: CERT, supportedSignatureAlgorithms: algs }) });
    calls.length = 0;
    assert.deepEqual(await webeid.getSigningCertificate(), { certificate: CERT, supportedSignatureAlgorithms: algs });
    assert.deepEqual(JSON.parse(calls[0].init.body), { type: "sign" });
  },
  async "sign(certificate, hash, hashFunction) takes base64 and returns signature and signatureAlgorithm"() {
    const alg = { cryptoAlgorithm: "ECC", hashFunction: "SHA-384", paddingScheme: "NONE" };
    webeid.configure({ fetchImpl: reply(200, { signature: "AQ==", signatureAlgorithm: alg }) });
    calls.length = 0;
    const hash = Buffer.alloc(48, 7).toString("base64");
    assert.deepEqual(await webeid.sign(CERT, hash, "SHA-384"), { signature: "AQ==", signatureAlgorithm: alg });
    assert.deepEqual(JSON.parse(calls[0].init.body), { certificate: CERT, hash, hashFunction: "SHA-384" });
  },
  async "missing parameters are MissingParameterError before any request"() {
    webeid.configure({ fetchImpl: reply(200, {}) });
    calls.length = 0;
    await rejects(webeid.authenticate(""), "ERR_WEBEID_MISSING_PARAMETER", "MissingParameterError");
    await rejects(webeid.sign("", "AA==", "SHA-256"), "ERR_WEBEID_MISSING_PARAMETER", "MissingParameterError");
    await rejects(webeid.sign(CERT, "", "SHA-256"), "ERR_WEBEID_MISSING_PARAMETER", "MissingParameterError");
    await rejects(webeid.sign(CERT, "AA==", ""), "ERR_WEBEID_MISSING_PARAMETER", "MissingParameterError");
    assert.equal(calls.length, 0);
  },
  async "bad arguments are NativeInvalidArgumentError, as the Web eID application answers them"() {
    webeid.configure({ fetchImpl: reply(200, {}) });
    calls.length = 0;
    await rejects(webeid.authenticate("c2hvcnQ="), "ERR_WEBEID_NATIVE_INVALID_ARGUMENT", "NativeInvalidArgumentError");
    await rejects(webeid.sign(CERT, "AA==", "SHA-256"), "ERR_WEBEID_NATIVE_INVALID_ARGUMENT", "NativeInvalidArgumentError");
    await rejects(webeid.sign(CERT, "not base64!", "SHA-256"), "ERR_WEBEID_NATIVE_INVALID_ARGUMENT",
      "NativeInvalidArgumentError");
    await rejects(webeid.sign(CERT, Buffer.alloc(32).toString("base64"), "SHA3-256"),
      "ERR_WEBEID_NATIVE_INVALID_ARGUMENT", "NativeInvalidArgumentError");
    assert.equal(calls.length, 0);
  },
  async "every bridge error code maps to its Web eID error, the bridge's code kept"() {
    const want = {
      "user-cancelled": ["ERR_WEBEID_USER_CANCELLED", "UserCancelledError"],
      "timeout": ["ERR_WEBEID_USER_TIMEOUT", "UserTimeoutError"],
      "bad-request": ["ERR_WEBEID_NATIVE_INVALID_ARGUMENT", "NativeInvalidArgumentError"],
      "busy": ["ERR_WEBEID_ACTION_PENDING", "ActionPendingError"],
      "no-card": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "no-reader": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "no-service": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "multiple-cards": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "card-not-recognised": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "not-found": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "reader-access-denied": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "pin-blocked": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "card-error": ["ERR_WEBEID_NATIVE_FATAL", "NativeFatalError"],
      "something-new": ["ERR_WEBEID_UNKNOWN_ERROR", "UnknownError"],
    };
    for (const [code, [wcode, name]] of Object.entries(want)) {
      webeid.configure({ fetchImpl: bridgeError(400, code) });
      await rejects(webeid.authenticate(NONCE), wcode, name, { cnieCode: code });
    }
    webeid.configure({ fetchImpl: bridgeError(403, "pin-incorrect", { triesLeft: 2 }) });
    await rejects(webeid.sign(CERT, Buffer.alloc(32).toString("base64"), "SHA-256"), "ERR_WEBEID_NATIVE_FATAL",
      "NativeFatalError", { cnieCode: "pin-incorrect", triesLeft: 2 });
  },
  async "an unreachable bridge is NativeUnavailableError"() {
    webeid.configure({ fetchImpl: async () => { throw new TypeError("fetch failed"); } });
    await rejects(webeid.status(), "ERR_WEBEID_NATIVE_UNAVAILABLE", "NativeUnavailableError",
      { cnieCode: "bridge-unreachable" });
    await rejects(webeid.authenticate(NONCE), "ERR_WEBEID_NATIVE_UNAVAILABLE", "NativeUnavailableError");
  },
  async "no answer within the action's time is ActionTimeoutError"() {
    webeid.configure({ fetchImpl: (url, init) => new Promise((_, rej) =>
      init.signal.addEventListener("abort", () => rej(new DOMException("aborted", "AbortError")))) });
    const t0 = Date.now();
    // Handshake allowances (6 s) + 1 ms of interaction: bounded, not timed.
    await rejects(webeid.authenticate(NONCE, { userInteractionTimeout: 1 }), "ERR_WEBEID_ACTION_TIMEOUT",
      "ActionTimeoutError");
    assert.ok(Date.now() - t0 < 60000);
  },
  async "the same action twice at once is ActionPendingError; another action is not"() {
    let release;
    const token = { unverifiedCertificate: CERT, algorithm: "ES256", signature: "AA==", format: "web-eid:1.0",
      appVersion: "x" };
    webeid.configure({ fetchImpl: async (url) => {
      if (url.endsWith("/v1/authenticate")) await new Promise((r) => { release = r; });
      const body = url.endsWith("/v1/authenticate") ? token
        : { certificate: CERT, supportedSignatureAlgorithms: [] };
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    } });
    const first = webeid.authenticate(NONCE);
    await new Promise((r) => setTimeout(r, 10));
    await rejects(webeid.authenticate(NONCE), "ERR_WEBEID_ACTION_PENDING", "ActionPendingError");
    assert.equal((await webeid.getSigningCertificate()).certificate, CERT);
    release();
    assert.deepEqual(await first, token);
  },
  async "status() is {library, extension, nativeApp}"() {
    webeid.configure({ fetchImpl: reply(200, { version: "0.1.0", transport: "pcsc", readers: [] }) });
    assert.deepEqual(await webeid.status(), { library: webeid.VERSION, extension: webeid.VERSION, nativeApp: "0.1.0" });
  },
};

let failed = 0;
for (const [name, fn] of Object.entries(tests)) {
  try {
    await fn();
    console.log(`PASS ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}
console.log(`${Object.keys(tests).length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
