// Unit tests of the JS client (web/cnie-bridge.js) under Node with a fake
// fetch: requests as the contract says (docs/bridge-api.md), every bridge
// error surfaced as CnieBridgeError with its code, client-side refusals
// before any request.  Run: node client.test.mjs (Node >= 18).
import assert from "node:assert/strict";
import { CnieBridge, CnieBridgeError, ErrorCode, cardState, setMessages } from "../../web/cnie-bridge.js";
import { readFileSync } from "node:fs";

const NONCE = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const calls = [];
function reply(status, body, type = "application/json") {
  return async (url, init) => {
    calls.push({ url, init });
    return new Response(typeof body === "string" ? body : JSON.stringify(body),
      { status, headers: { "Content-Type": type } });
  };
}
async function rejects(p, code, extra = {}) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CnieBridgeError, `not a CnieBridgeError: ${e}`);
    assert.equal(e.code, code);
    for (const [k, v] of Object.entries(extra)) assert.equal(e[k], v, k);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const tests = {
  async "ErrorCode lists every error code docs/bridge-api.md documents"() {
    const doc = readFileSync(new URL("../../docs/bridge-api.md", import.meta.url), "utf8");
    // The errors section writes each code as `code` STATUS.
    const codes = new Set([...doc.matchAll(/`([a-z]+(?:-[a-z]+)*)` ([1-5][0-9][0-9])\b/g)].map((m) => m[1]));
    assert.ok(codes.size >= 20, `codes found in the doc: ${[...codes]}`);
    const known = new Set(Object.values(ErrorCode));
    for (const c of codes) assert.ok(known.has(c), `ErrorCode lacks "${c}"`);
  },
  async "the client's messages follow the catalogue given to setMessages, codes do not"() {
    // po/fr.po's own translations (the catalogue the build turns into JSON).
    const po = readFileSync(new URL("../../po/fr.po", import.meta.url), "utf8");
    const entry = (id) => {
      const m = po.match(new RegExp(`\nmsgid "${id.replace(/[{}.?()]/g, "\\$&")}"\nmsgstr "([^"]+)"`));
      assert.ok(m, `po/fr.po translates "${id}"`);
      return m[1];
    };
    const fr = {};
    for (const id of ["malformed JSON from the bridge", "{name} hash must be {n} bytes"]) fr[id] = entry(id);
    setMessages(fr);
    try {
      const b = new CnieBridge({ fetchImpl: reply(200, "{not json") });
      const e = await rejects(b.status(), ErrorCode.BAD_RESPONSE);
      assert.equal(e.message, fr["malformed JSON from the bridge"]);
      const e2 = await rejects(b.sign("MII=", new Uint8Array(3), "SHA-256"), ErrorCode.BAD_REQUEST);
      assert.equal(e2.message, fr["{name} hash must be {n} bytes"].replace("{name}", "SHA-256").replace("{n}", "32"));
      assert.ok(!e2.message.includes("{"), e2.message);
    } finally {
      setMessages(null);
    }
    const e3 = await rejects(new CnieBridge({ fetchImpl: reply(200, "{not json") }).status(), ErrorCode.BAD_RESPONSE);
    assert.equal(e3.message, "malformed JSON from the bridge");
  },
  async "authenticate posts the nonce as JSON to /v1/authenticate"() {
    const token = { unverifiedCertificate: "MII=", algorithm: "ES256", signature: "AA==", format: "web-eid:1.0" };
    const b = new CnieBridge({ url: "https://127.0.0.1:28219/", fetchImpl: reply(200, token) });
    calls.length = 0;
    assert.deepEqual(await b.authenticate(NONCE), token);
    assert.equal(calls[0].url, "https://127.0.0.1:28219/v1/authenticate");
    assert.equal(calls[0].init.method, "POST");
    assert.equal(calls[0].init.headers["Content-Type"], "application/json");
    assert.deepEqual(JSON.parse(calls[0].init.body), { challengeNonce: NONCE });
    assert.equal(calls[0].init.credentials, "omit");
  },
  async "pin-incorrect carries triesLeft and the HTTP status"() {
    const b = new CnieBridge({ fetchImpl: reply(403, { error: { code: "pin-incorrect", message: "PIN incorrect", triesLeft: 2 } }) });
    await rejects(b.authenticate(NONCE), ErrorCode.PIN_INCORRECT, { triesLeft: 2, status: 403 });
  },
  async "every contract error code is passed through"() {
    for (const code of ["bad-request", "origin-not-allowed", "no-reader", "no-card", "card-not-recognised",
      "multiple-cards", "user-cancelled", "pin-blocked", "busy", "timeout", "card-error", "payload-too-large"]) {
      const b = new CnieBridge({ fetchImpl: reply(400, { error: { code, message: code } }) });
      await rejects(b.status(), code);
    }
  },
  async "unreachable bridge is bridge-unreachable"() {
    const b = new CnieBridge({ fetchImpl: async () => { throw new TypeError("fetch failed"); } });
    await rejects(b.status(), ErrorCode.BRIDGE_UNREACHABLE, { status: 0 });
  },
  async "no answer in time is timeout"() {
    const b = new CnieBridge({ timeoutMs: 20, fetchImpl: (url, init) => new Promise((_, rej) =>
      init.signal.addEventListener("abort", () => rej(new DOMException("aborted", "AbortError")))) });
    await rejects(b.status(), ErrorCode.TIMEOUT);
  },
  async "non-JSON or malformed answers are bad-response"() {
    await rejects(new CnieBridge({ fetchImpl: reply(502, "<html>", "text/html") }).status(), ErrorCode.BAD_RESPONSE, { status: 502 });
    await rejects(new CnieBridge({ fetchImpl: reply(200, "{nope") }).status(), ErrorCode.BAD_RESPONSE);
    await rejects(new CnieBridge({ fetchImpl: reply(200, { version: "1" }) }).status(), ErrorCode.BAD_RESPONSE);
    await rejects(new CnieBridge({ fetchImpl: reply(200, { algorithm: "ES256" }) }).authenticate(NONCE), ErrorCode.BAD_RESPONSE);
  },
  async "short nonce and wrong hash length are refused before any request"() {
    calls.length = 0;
    const b = new CnieBridge({ fetchImpl: reply(200, {}) });
    await rejects(b.authenticate("c2hvcnQ="), ErrorCode.BAD_REQUEST);
    await rejects(b.sign("MII=", new Uint8Array(31), "SHA-256"), ErrorCode.BAD_REQUEST);
    await rejects(b.sign("MII=", new Uint8Array(32), "SHA-384"), ErrorCode.BAD_REQUEST);
    assert.equal(calls.length, 0);
  },
  async "sign sends certificate, base64 hash and hash function"() {
    calls.length = 0;
    const b = new CnieBridge({ fetchImpl: reply(200, { signature: "AA==", signatureAlgorithm: {} }) });
    await b.sign("MII=", new Uint8Array(32).fill(1), "SHA-256");
    assert.deepEqual(JSON.parse(calls[0].init.body),
      { certificate: "MII=", hash: Buffer.alloc(32, 1).toString("base64"), hashFunction: "SHA-256" });
  },
  async "identity and certificate requests follow the contract"() {
    calls.length = 0;
    const b = new CnieBridge({ fetchImpl: reply(200, {}) });
    await b.identity(["mrz", "photo"], new Uint8Array([1, 2, 3]));
    await b.getCertificate("auth", { reader: "R1" });
    assert.deepEqual(JSON.parse(calls[0].init.body), { fields: ["mrz", "photo"], challenge: "AQID" });
    assert.ok(calls[0].url.endsWith("/v1/identity"));
    assert.deepEqual(JSON.parse(calls[1].init.body), { type: "auth", reader: "R1" });
  },
  async "the reader option goes into every card request"() {
    calls.length = 0;
    const b = new CnieBridge({ fetchImpl: reply(200, { unverifiedCertificate: "MII=", algorithm: "ES256",
      signature: "AA==", format: "web-eid:1.0" }) });
    await b.authenticate(NONCE, { reader: "R 2" });
    await b.sign("MII=", new Uint8Array(32), "SHA-256", { reader: "R 2" }).catch(() => {});
    await b.identity(["mrz"], undefined, { reader: "R 2" }).catch(() => {});
    assert.deepEqual(calls.map((c) => JSON.parse(c.init.body).reader), ["R 2", "R 2", "R 2"]);
  },
  async "an unknown hash function or a hash that is not base64 is refused before any request"() {
    calls.length = 0;
    const b = new CnieBridge({ fetchImpl: reply(200, {}) });
    await rejects(b.sign("MII=", new Uint8Array(32), "SHA3-256"), ErrorCode.BAD_REQUEST);
    await rejects(b.sign("MII=", "not base64!", "SHA-256"), ErrorCode.BAD_REQUEST);
    assert.equal(calls.length, 0);
  },
  async "cardState: three-state recognised, false believed only when known to be a check"() {
    assert.equal(cardState(undefined), "no-card");
    assert.equal(cardState({ name: "R", card: false, recognised: false }), "no-card");
    assert.equal(cardState({ name: "R", card: true, recognised: true }), "cnie");
    assert.equal(cardState({ name: "R", card: true, recognised: null }), "not-checked");
    assert.equal(cardState({ name: "R", card: true, recognised: false }), "not-checked");
    assert.equal(cardState({ name: "R", card: true, recognised: false }, { falseMeansChecked: true }), "not-recognised");
  },
  async "permissionState without the Permissions API is unsupported"() {
    assert.ok(["unsupported", "granted", "prompt", "denied"].includes(await CnieBridge.permissionState()));
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
