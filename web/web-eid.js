// web-eid.js — the API of Web eID's JavaScript library
// (@web-eid/web-eid-library 2.x: status, authenticate, getSigningCertificate,
// sign, ErrorCode, Action, config and the error classes) on top of the CNIE
// bridge (cnied, docs/bridge-api.md).  A portal that already integrates Web
// eID switches by changing its import and nothing else:
//
//   import * as webeid from "@web-eid/web-eid-library";   // before
//   import * as webeid from "cnie-bridge/web-eid";        // after
//
//   const token = await webeid.authenticate(nonce, { lang: "fr" });
//   const { certificate, supportedSignatureAlgorithms } = await webeid.getSigningCertificate();
//   const { signature, signatureAlgorithm } = await webeid.sign(certificate, hashB64, "SHA-256");
//
// Errors are Error objects with Web eID's `name` and `code`
// (ERR_WEBEID_...), plus `cnieCode` (the bridge's own code, e.g. "no-card",
// "pin-incorrect") and `triesLeft` when the bridge gave them, for portals
// that want to say more.  How bridge codes map to Web eID codes: CODE_MAP.
//
// Written from Web eID's public API documentation and type definitions; no
// code of the Web eID project is used.

import { CnieBridge, CnieBridgeError, DEFAULT_BRIDGE_URL, ErrorCode as BridgeCode } from "./cnie-bridge.js";

// The translations of the client's messages (cnie-bridge.js setMessages);
// the Web eID errors' own default messages stay Web eID's English ones.
export { setMessages } from "./cnie-bridge.js";

export const VERSION = "0.1.0";

// Web eID's error codes (same names, same string values).
export const ErrorCode = Object.freeze({
  ERR_WEBEID_ACTION_TIMEOUT: "ERR_WEBEID_ACTION_TIMEOUT",
  ERR_WEBEID_USER_TIMEOUT: "ERR_WEBEID_USER_TIMEOUT",
  ERR_WEBEID_VERSION_MISMATCH: "ERR_WEBEID_VERSION_MISMATCH",
  ERR_WEBEID_VERSION_INVALID: "ERR_WEBEID_VERSION_INVALID",
  ERR_WEBEID_EXTENSION_UNAVAILABLE: "ERR_WEBEID_EXTENSION_UNAVAILABLE",
  ERR_WEBEID_NATIVE_UNAVAILABLE: "ERR_WEBEID_NATIVE_UNAVAILABLE",
  ERR_WEBEID_UNKNOWN_ERROR: "ERR_WEBEID_UNKNOWN_ERROR",
  ERR_WEBEID_CONTEXT_INSECURE: "ERR_WEBEID_CONTEXT_INSECURE",
  ERR_WEBEID_USER_CANCELLED: "ERR_WEBEID_USER_CANCELLED",
  ERR_WEBEID_NATIVE_INVALID_ARGUMENT: "ERR_WEBEID_NATIVE_INVALID_ARGUMENT",
  ERR_WEBEID_NATIVE_FATAL: "ERR_WEBEID_NATIVE_FATAL",
  ERR_WEBEID_ACTION_PENDING: "ERR_WEBEID_ACTION_PENDING",
  ERR_WEBEID_MISSING_PARAMETER: "ERR_WEBEID_MISSING_PARAMETER",
});

// Web eID's message action names (exported by the library; kept for
// portals that reference them, e.g. in logs).
export const Action = Object.freeze({
  WARNING: "web-eid:warning",
  STATUS: "web-eid:status",
  STATUS_ACK: "web-eid:status-ack",
  STATUS_SUCCESS: "web-eid:status-success",
  STATUS_FAILURE: "web-eid:status-failure",
  AUTHENTICATE: "web-eid:authenticate",
  AUTHENTICATE_ACK: "web-eid:authenticate-ack",
  AUTHENTICATE_SUCCESS: "web-eid:authenticate-success",
  AUTHENTICATE_FAILURE: "web-eid:authenticate-failure",
  GET_SIGNING_CERTIFICATE: "web-eid:get-signing-certificate",
  GET_SIGNING_CERTIFICATE_ACK: "web-eid:get-signing-certificate-ack",
  GET_SIGNING_CERTIFICATE_SUCCESS: "web-eid:get-signing-certificate-success",
  GET_SIGNING_CERTIFICATE_FAILURE: "web-eid:get-signing-certificate-failure",
  SIGN: "web-eid:sign",
  SIGN_ACK: "web-eid:sign-ack",
  SIGN_SUCCESS: "web-eid:sign-success",
  SIGN_FAILURE: "web-eid:sign-failure",
});

// The timing constants of Web eID's `config` export; the bridge is one
// local HTTPS hop, so the handshake allowances only bound the first answer.
export const config = Object.freeze({
  VERSION,
  EXTENSION_HANDSHAKE_TIMEOUT: 1000,
  NATIVE_APP_HANDSHAKE_TIMEOUT: 5000,
  DEFAULT_USER_INTERACTION_TIMEOUT: 2 * 60 * 1000,
  MAX_EXTENSION_LOAD_DELAY: 1000,
});

// The base of every error this module throws (a CNIE addition: Web eID's
// classes extend Error directly): `code`, and when the bridge gave them,
// `cnieCode` (its own code) and `triesLeft`.
export class WebEidError extends Error {
  constructor(message, extra = undefined) {
    super(message);
    this.name = "WebEidError";
    this.code = ErrorCode.ERR_WEBEID_UNKNOWN_ERROR;
    if (extra) {
      for (const [k, v] of Object.entries(extra)) if (v !== undefined) this[k] = v;
    }
  }
}

// One error class per Web eID code, named as Web eID names them, each with
// its default message.  `name` and `code` are own properties, as in Web eID.
function errorClass(name, code, defaultMessage) {
  const C = class extends WebEidError {
    constructor(message = defaultMessage, extra = undefined) {
      super(message, extra);
      this.name = name;
      this.code = code;
    }
  };
  Object.defineProperty(C, "name", { value: name });
  return C;
}
export const ActionPendingError = errorClass("ActionPendingError", ErrorCode.ERR_WEBEID_ACTION_PENDING,
  "same action for Web-eID browser extension is already pending");
export const ActionTimeoutError = errorClass("ActionTimeoutError", ErrorCode.ERR_WEBEID_ACTION_TIMEOUT,
  "extension message timeout");
export const ContextInsecureError = errorClass("ContextInsecureError", ErrorCode.ERR_WEBEID_CONTEXT_INSECURE,
  "Secure context required, see https://developer.mozilla.org/en-US/docs/Web/Security/Secure_Contexts");
export const ExtensionUnavailableError = errorClass("ExtensionUnavailableError",
  ErrorCode.ERR_WEBEID_EXTENSION_UNAVAILABLE, "Web-eID extension is not available");
export const MissingParameterError = errorClass("MissingParameterError", ErrorCode.ERR_WEBEID_MISSING_PARAMETER,
  "a required parameter is missing");
export const NativeFatalError = errorClass("NativeFatalError", ErrorCode.ERR_WEBEID_NATIVE_FATAL,
  "native application terminated with a fatal error");
export const NativeInvalidArgumentError = errorClass("NativeInvalidArgumentError",
  ErrorCode.ERR_WEBEID_NATIVE_INVALID_ARGUMENT, "native application received an invalid argument");
export const NativeUnavailableError = errorClass("NativeUnavailableError", ErrorCode.ERR_WEBEID_NATIVE_UNAVAILABLE,
  "Web-eID native application is not available");
export const UnknownError = errorClass("UnknownError", ErrorCode.ERR_WEBEID_UNKNOWN_ERROR,
  "an unknown error occurred");
export const UserCancelledError = errorClass("UserCancelledError", ErrorCode.ERR_WEBEID_USER_CANCELLED,
  "request was cancelled by the user");
export const UserTimeoutError = errorClass("UserTimeoutError", ErrorCode.ERR_WEBEID_USER_TIMEOUT,
  "user failed to respond in time");
export const VersionInvalidError = errorClass("VersionInvalidError", ErrorCode.ERR_WEBEID_VERSION_INVALID,
  "invalid version string");
export const VersionMismatchError = errorClass("VersionMismatchError", ErrorCode.ERR_WEBEID_VERSION_MISMATCH,
  "version mismatch");

// The bridge's codes (docs/bridge-api.md "Errors", plus the client's own) to
// the Web eID error a Web eID portal already handles.  The bridge plays the
// native application: not reachable = the native application is missing;
// the browser refusing loopback access plays the missing extension (the
// link between page and application).  Card and reader conditions, for
// which the Web eID application would keep its own dialog open, end the
// action as NATIVE_FATAL with the bridge's code in `cnieCode`.
export const CODE_MAP = Object.freeze({
  [BridgeCode.USER_CANCELLED]: UserCancelledError,
  [BridgeCode.TIMEOUT]: UserTimeoutError, // the PIN dialog or the PIN pad timed out
  [BridgeCode.BAD_REQUEST]: NativeInvalidArgumentError,
  [BridgeCode.PAYLOAD_TOO_LARGE]: NativeInvalidArgumentError,
  [BridgeCode.BUSY]: ActionPendingError, // another card operation holds the card
  [BridgeCode.BRIDGE_UNREACHABLE]: NativeUnavailableError,
  [BridgeCode.PERMISSION_DENIED]: ExtensionUnavailableError,
  [BridgeCode.INSECURE_CONTEXT]: ContextInsecureError,
  [BridgeCode.ORIGIN_NOT_ALLOWED]: NativeFatalError,
  [BridgeCode.NO_SERVICE]: NativeFatalError,
  [BridgeCode.NO_READER]: NativeFatalError,
  [BridgeCode.NO_CARD]: NativeFatalError,
  [BridgeCode.CARD_NOT_RECOGNISED]: NativeFatalError,
  [BridgeCode.MULTIPLE_CARDS]: NativeFatalError,
  [BridgeCode.PIN_INCORRECT]: NativeFatalError,
  [BridgeCode.PIN_BLOCKED]: NativeFatalError,
  [BridgeCode.CARD_ERROR]: NativeFatalError,
  "can-incorrect": NativeFatalError,
  "pinpad-required": NativeFatalError,
  "pace-reader-required": NativeFatalError,
  // The card lacks the key or certificate asked for (422), or the bridge lacks
  // the endpoint (404): either way the native side cannot do it.
  [BridgeCode.NOT_FOUND]: NativeFatalError,
  // libcnie's other codes (docs/errors.md), which the bridge passes on as they are.
  "pin-format": NativeFatalError,
  "can-required": NativeFatalError,
  "reader-access-denied": NativeFatalError,
  [BridgeCode.BAD_RESPONSE]: UnknownError,
  [BridgeCode.ABORTED]: UnknownError,
});

// A client-side timeout (no answer within the action's time) is Web eID's
// ACTION_TIMEOUT; the bridge's own `timeout` (the user did not answer the
// dialog) is USER_TIMEOUT.
function toWebEidError(e) {
  if (!(e instanceof CnieBridgeError)) {
    return new UnknownError(e && e.message ? String(e.message) : undefined, { cause: e });
  }
  const C = e.status === 0 && e.code === BridgeCode.TIMEOUT ? ActionTimeoutError
    : CODE_MAP[e.code] || UnknownError;
  return new C(e.message, { cnieCode: e.code, triesLeft: e.triesLeft, cause: e });
}

// Configuration beyond Web eID's API (optional): the bridge's URL (default
// https://127.0.0.1:28219, cnied's default port) and, for tests, fetch.
let settings = { url: DEFAULT_BRIDGE_URL, fetchImpl: undefined };
export function configure({ url, fetchImpl } = {}) {
  settings = { url: url || DEFAULT_BRIDGE_URL, fetchImpl };
}

const pending = new Set();
// Runs one action: the same action twice at once is ACTION_PENDING (as in
// Web eID); the time allowed is Web eID's (handshakes + user interaction,
// twice the interaction for signing).
async function run(action, interactions, options, fn) {
  if (pending.has(action)) throw new ActionPendingError();
  const interaction = options?.userInteractionTimeout ?? config.DEFAULT_USER_INTERACTION_TIMEOUT;
  const timeoutMs = config.EXTENSION_HANDSHAKE_TIMEOUT + config.NATIVE_APP_HANDSHAKE_TIMEOUT +
    interaction * interactions;
  const bridge = new CnieBridge({ url: settings.url, timeoutMs, fetchImpl: settings.fetchImpl });
  pending.add(action);
  try {
    return await fn(bridge, options?.reader ? { reader: options.reader } : {});
  } catch (e) {
    throw toWebEidError(e);
  } finally {
    pending.delete(action);
  }
}

// {library, extension, nativeApp}: there is no extension, the library plays
// its part, so `extension` is the library's version; nativeApp is cnied's.
export async function status() {
  return run(Action.STATUS, 0, undefined, async (bridge) => {
    const s = await bridge.status();
    return { library: VERSION, extension: VERSION, nativeApp: String(s.version) };
  });
}

// options: {userInteractionTimeout?, lang?} as Web eID; `lang` is accepted
// and ignored (the bridge's dialogs follow the desktop's language); `reader`
// (CNIE addition): the reader's name from the bridge's status when several
// cards are present.
export async function authenticate(challengeNonce, options) {
  if (!challengeNonce) throw new MissingParameterError("authenticate function requires a challengeNonce");
  return run(Action.AUTHENTICATE, 1, options, async (bridge, extra) => {
    const t = await bridge.authenticate(challengeNonce, extra);
    const { unverifiedCertificate, algorithm, signature, format, appVersion } = t;
    return { unverifiedCertificate, algorithm, signature, format, appVersion };
  });
}

export async function getSigningCertificate(options) {
  return run(Action.GET_SIGNING_CERTIFICATE, 2, options, async (bridge, extra) => {
    const { certificate, supportedSignatureAlgorithms } = await bridge.getCertificate("sign", extra);
    return { certificate, supportedSignatureAlgorithms };
  });
}

// hash: base64 of the digest (as Web eID); hashFunction: "SHA-256"...
export async function sign(certificate, hash, hashFunction, options) {
  if (!certificate) throw new MissingParameterError("sign function requires a certificate as parameter");
  if (!hash) throw new MissingParameterError("sign function requires a hash as parameter");
  if (!hashFunction) throw new MissingParameterError("sign function requires a hashFunction as parameter");
  return run(Action.SIGN, 2, options, async (bridge, extra) => {
    const { signature, signatureAlgorithm } = await bridge.sign(certificate, hash, hashFunction, extra);
    return { signature, signatureAlgorithm };
  });
}
