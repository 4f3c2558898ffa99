// cnie-bridge.js — ES module client for the CNIE local bridge (cnied).
// No framework, no dependency. The API it speaks is docs/bridge-api.md.
//
//   import { CnieBridge, CnieBridgeError } from "./cnie-bridge.js";
//   const bridge = new CnieBridge();            // https://127.0.0.1:28219
//   await bridge.detect();                      // from a user gesture
//   const token = await bridge.authenticate(nonceFromServer);
//
// Chrome's Local Network Access (2026) asks the user once per origin before
// a page may reach loopback, only from secure contexts: call detect() (or
// any first call) from a click handler, and use permissionState() to tell
// the user what the browser will ask.

export const DEFAULT_BRIDGE_URL = "https://127.0.0.1:28219";

// The client's own error messages are English (marked N_() for the
// project's gettext template, po/cnie.pot) and translated through the
// catalogue given to setMessages(): the JSON the build makes from
// po/LANG.po ({"messages": {english: translation}}; web/demo/app.js loads
// /i18n/LANG.json).  Messages the bridge sends pass through unchanged; the
// codes are never translated.
let catalogue = {};
const N_ = (s) => s;

// messages: {english: translation} (the "messages" object of the JSON
// catalogue), or null for English.
export function setMessages(messages) {
  catalogue = messages && typeof messages === "object" ? messages : {};
}

function msg(s, params = {}) {
  const t = Object.hasOwn(catalogue, s) && typeof catalogue[s] === "string" && catalogue[s] !== "" ? catalogue[s] : s;
  return t.replace(/\{(\w+)\}/g, (_, k) => (params[k] !== undefined ? String(params[k]) : ""));
}

// Stable error codes: the bridge's (docs/bridge-api.md) plus the client's own.
export const ErrorCode = Object.freeze({
  BAD_REQUEST: "bad-request",
  ORIGIN_NOT_ALLOWED: "origin-not-allowed",
  NOT_FOUND: "not-found",
  NO_SERVICE: "no-service",
  NO_READER: "no-reader",
  NO_CARD: "no-card",
  CARD_NOT_RECOGNISED: "card-not-recognised",
  MULTIPLE_CARDS: "multiple-cards",
  USER_CANCELLED: "user-cancelled",
  PIN_INCORRECT: "pin-incorrect",
  PIN_BLOCKED: "pin-blocked",
  BUSY: "busy",
  TIMEOUT: "timeout",
  CARD_ERROR: "card-error",
  PAYLOAD_TOO_LARGE: "payload-too-large",
  CAN_INCORRECT: "can-incorrect",
  CAN_REQUIRED: "can-required",
  PIN_FORMAT: "pin-format",
  CARD_RESET: "card-reset",
  READER_ACCESS_DENIED: "reader-access-denied",
  DIALOG_FAILED: "dialog-failed",
  SHUTTING_DOWN: "shutting-down",
  INTERNAL_ERROR: "internal-error",
  IO_ERROR: "io-error",
  // Kiosk mode (docs/kiosk.md): the PIN only on a PIN pad, no CAN dialog.
  PINPAD_REQUIRED: "pinpad-required",
  PACE_READER_REQUIRED: "pace-reader-required",
  // Client side:
  BRIDGE_UNREACHABLE: "bridge-unreachable", // not running, TLS not trusted, or blocked by the browser
  PERMISSION_DENIED: "permission-denied", // the user refused loopback access (Local Network Access)
  INSECURE_CONTEXT: "insecure-context", // the page is not a secure context
  BAD_RESPONSE: "bad-response", // the bridge answered something that is not the contract
  ABORTED: "aborted",
});

export class CnieBridgeError extends Error {
  // code: one of ErrorCode; status: HTTP status (0 when no answer);
  // triesLeft: PIN tries left for pin-incorrect.
  constructor(code, message, { status = 0, triesLeft, cause } = {}) {
    super(message || code, cause ? { cause } : undefined);
    this.name = "CnieBridgeError";
    this.code = code;
    this.status = status;
    if (triesLeft !== undefined) this.triesLeft = triesLeft;
  }
}

const HASH_LENGTHS = { "SHA-224": 28, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };

function toBase64(bytes) {
  let s = "";
  const u = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64) {
  const s = atob(b64);
  const u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return u;
}

export class CnieBridge {
  // options.url: the bridge's base URL; options.timeoutMs: per request
  // (card operations wait for the PIN dialog: minutes, not seconds).
  constructor({ url = DEFAULT_BRIDGE_URL, timeoutMs = 180000, fetchImpl } = {}) {
    this.url = url.replace(/\/+$/, "");
    this.timeoutMs = timeoutMs;
    this._fetch = fetchImpl || globalThis.fetch.bind(globalThis);
  }

  // "granted" | "prompt" | "denied" | "unsupported" (the browser has no
  // Local Network Access permission: loopback is reachable without asking).
  // A page that is itself on loopback (127.0.0.0/8, ::1, localhost) reaches
  // the bridge within its own address space: no permission applies, whatever
  // the browser reports for the permission name ("granted").
  static async permissionState() {
    if (typeof location !== "undefined" &&
        /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/.test(location.hostname || "")) return "granted";
    if (typeof navigator === "undefined" || !navigator.permissions?.query) return "unsupported";
    for (const name of ["loopback-network", "local-network-access"]) {
      try {
        const st = await navigator.permissions.query({ name });
        return st.state;
      } catch (_) {
        // Unknown permission name in this browser: try the next one.
      }
    }
    return "unsupported";
  }

  // opts: {signal: AbortSignal, timeoutMs: this call's time limit}.
  async _request(method, path, body, { signal, timeoutMs } = {}) {
    if (typeof window !== "undefined" && window.isSecureContext === false) {
      throw new CnieBridgeError(ErrorCode.INSECURE_CONTEXT,
        msg(N_("the page must be served over HTTPS (or from localhost) to reach the bridge")));
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs || this.timeoutMs);
    if (signal) signal.addEventListener("abort", () => ctl.abort(), { once: true });
    const init = { method, signal: ctl.signal, cache: "no-store", credentials: "omit", headers: {} };
    // Chrome's Local Network Access: declare the target address space.
    init.targetAddressSpace = "loopback";
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await this._fetch(this.url + path, init);
    } catch (e) {
      clearTimeout(timer);
      if (ctl.signal.aborted) {
        throw new CnieBridgeError(signal?.aborted ? ErrorCode.ABORTED : ErrorCode.TIMEOUT,
          msg(N_("no answer from the bridge in time")), { cause: e });
      }
      const perm = await CnieBridge.permissionState();
      if (perm === "denied") {
        throw new CnieBridgeError(ErrorCode.PERMISSION_DENIED,
          msg(N_("the browser blocks access to the local bridge (local network permission denied)")), { cause: e });
      }
      throw new CnieBridgeError(ErrorCode.BRIDGE_UNREACHABLE,
        msg(N_("cannot reach the CNIE bridge at {url}: is cnied running and its certificate trusted?"), { url: this.url }),
        { cause: e });
    }
    clearTimeout(timer);
    let data = null;
    const type = res.headers.get("Content-Type") || "";
    if (type.startsWith("application/json")) {
      try {
        data = await res.json();
      } catch (e) {
        throw new CnieBridgeError(ErrorCode.BAD_RESPONSE, msg(N_("malformed JSON from the bridge")),
          { status: res.status, cause: e });
      }
    }
    if (!res.ok || (data && data.error)) {
      const err = data?.error;
      if (err && typeof err.code === "string") {
        throw new CnieBridgeError(err.code, err.message || err.code, { status: res.status, triesLeft: err.triesLeft });
      }
      throw new CnieBridgeError(ErrorCode.BAD_RESPONSE, msg(N_("bridge answered HTTP {status}"), { status: res.status }),
        { status: res.status });
    }
    if (data === null || typeof data !== "object") {
      throw new CnieBridgeError(ErrorCode.BAD_RESPONSE, msg(N_("the bridge did not answer JSON")), { status: res.status });
    }
    return data;
  }

  // Checks that the bridge answers; returns its status.
  async detect(opts) {
    return this.status(opts);
  }

  // {version, transport, readers:[{name, card, recognised, pinpad}], service?}
  // recognised: true (a CNIE card), false (checked: not one), null (not
  // checked yet; older bridges send false until the first card operation
  // on PC/SC, see cardState()).
  async status(opts) {
    const s = await this._request("GET", "/v1/status", undefined, opts);
    if (!Array.isArray(s.readers)) throw new CnieBridgeError(ErrorCode.BAD_RESPONSE, msg(N_("status without readers")));
    return s;
  }

  // Reader and card events: handler({type: "reader"|"card", reader, state}).
  // Returns a function that closes the stream.
  events(handler, onError) {
    const es = new EventSource(this.url + "/v1/events");
    const relay = (type) => (ev) => {
      try {
        const d = JSON.parse(ev.data);
        handler({ type, reader: d.reader, state: d.state });
      } catch (_) {
        // An event that is not the contract's JSON is ignored.
      }
    };
    es.addEventListener("reader", relay("reader"));
    es.addEventListener("card", relay("card"));
    if (onError) es.onerror = () => onError(new CnieBridgeError(ErrorCode.BRIDGE_UNREACHABLE, msg(N_("event stream interrupted"))));
    return () => es.close();
  }

  // Web eID token (web-eid:1.0) over this page's origin and nonce. The nonce
  // comes from the portal's server (≥ 32 random bytes, base64).
  // opts (every card operation): {reader, signal, timeoutMs}; reader: the
  // reader's name from status() (needed when several readers hold a card).
  async authenticate(challengeNonce, { reader, ...opts } = {}) {
    if (typeof challengeNonce !== "string" || challengeNonce.length < 44) {
      throw new CnieBridgeError(ErrorCode.BAD_REQUEST, msg(N_("challenge nonce must be at least 44 base64 characters")));
    }
    const body = { challengeNonce };
    if (reader) body.reader = reader;
    const t = await this._request("POST", "/v1/authenticate", body, opts);
    for (const k of ["unverifiedCertificate", "algorithm", "signature", "format"]) {
      if (typeof t[k] !== "string") throw new CnieBridgeError(ErrorCode.BAD_RESPONSE, msg(N_("token without {field}"), { field: k }));
    }
    return t;
  }

  // type: "auth" | "sign" → {certificate: b64 DER, supportedSignatureAlgorithms}
  async getCertificate(type = "sign", { reader, ...opts } = {}) {
    const body = { type };
    if (reader) body.reader = reader;
    return this._request("POST", "/v1/certificate", body, opts);
  }

  // Signs a hash (Uint8Array/ArrayBuffer or base64) with the signing key of
  // the card holding certificate (b64 DER from getCertificate("sign")).
  // description (optional): the document's title, up to 100 characters of
  // one-line printable text, shown in the consent dialog as the site's words
  // (docs/bridge-api.md "sign").
  async sign(certificate, hash, hashFunction = "SHA-256", { reader, description, ...opts } = {}) {
    if (!(hashFunction in HASH_LENGTHS)) {
      throw new CnieBridgeError(ErrorCode.BAD_REQUEST, msg(N_("unsupported hash function {name}"), { name: hashFunction }));
    }
    let bytes;
    try {
      bytes = typeof hash === "string" ? base64ToBytes(hash) : new Uint8Array(hash);
    } catch (e) {
      throw new CnieBridgeError(ErrorCode.BAD_REQUEST, msg(N_("hash is not valid base64")), { cause: e });
    }
    if (HASH_LENGTHS[hashFunction] !== bytes.length) {
      throw new CnieBridgeError(ErrorCode.BAD_REQUEST, msg(N_("{name} hash must be {n} bytes"),
        { name: hashFunction, n: HASH_LENGTHS[hashFunction] }));
    }
    const body = { certificate, hash: toBase64(bytes), hashFunction };
    if (reader) body.reader = reader;
    if (description !== undefined) body.description = description;
    return this._request("POST", "/v1/sign", body, opts);
  }

  // Identity with consent: fields among "mrz", "names", "photo", "raw";
  // challenge (optional): bytes or base64 for Active/Chip Authentication.
  async identity(fields = ["mrz", "names", "photo"], challenge, { reader, ...opts } = {}) {
    const body = { fields };
    if (reader) body.reader = reader;
    if (challenge !== undefined) body.challenge = typeof challenge === "string" ? challenge : toBase64(challenge);
    return this._request("POST", "/v1/identity", body, opts);
  }
}

// What a status reader entry says about its card, for the page to word:
// "no-card", "cnie" (recognised), "not-checked" (a card nobody has
// identified yet) or "not-recognised" (checked: not a CNIE card).
// `recognised` is three-state (true, false, null = not checked yet); a
// bridge that predates null sends false on PC/SC until the first operation,
// so false counts as "not-recognised" only when falseMeansChecked is set:
// the bridge has been seen to send null (it is three-state), or an
// operation on this very card answered card-not-recognised.
export function cardState(reader, { falseMeansChecked = false } = {}) {
  if (!reader || !reader.card) return "no-card";
  if (reader.recognised === true) return "cnie";
  if (reader.recognised === false && falseMeansChecked) return "not-recognised";
  return "not-checked";
}

// Hashes bytes or a string with WebCrypto (for sign()).
export async function digest(data, hashFunction = "SHA-256") {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return new Uint8Array(await crypto.subtle.digest(hashFunction, bytes));
}

export { toBase64 };
