// Type declarations of web-eid.js: the API of Web eID's JavaScript library
// (@web-eid/web-eid-library 2.x) over the CNIE bridge.  Written by hand from
// Web eID's public documentation and type definitions.

export declare const VERSION: string;

/** Translations of the client's messages: see setMessages in cnie-bridge.d.ts. */
export declare function setMessages(messages: Record<string, string> | null): void;

export declare enum ErrorCode {
  ERR_WEBEID_ACTION_TIMEOUT = "ERR_WEBEID_ACTION_TIMEOUT",
  ERR_WEBEID_USER_TIMEOUT = "ERR_WEBEID_USER_TIMEOUT",
  ERR_WEBEID_VERSION_MISMATCH = "ERR_WEBEID_VERSION_MISMATCH",
  ERR_WEBEID_VERSION_INVALID = "ERR_WEBEID_VERSION_INVALID",
  ERR_WEBEID_EXTENSION_UNAVAILABLE = "ERR_WEBEID_EXTENSION_UNAVAILABLE",
  ERR_WEBEID_NATIVE_UNAVAILABLE = "ERR_WEBEID_NATIVE_UNAVAILABLE",
  ERR_WEBEID_UNKNOWN_ERROR = "ERR_WEBEID_UNKNOWN_ERROR",
  ERR_WEBEID_CONTEXT_INSECURE = "ERR_WEBEID_CONTEXT_INSECURE",
  ERR_WEBEID_USER_CANCELLED = "ERR_WEBEID_USER_CANCELLED",
  ERR_WEBEID_NATIVE_INVALID_ARGUMENT = "ERR_WEBEID_NATIVE_INVALID_ARGUMENT",
  ERR_WEBEID_NATIVE_FATAL = "ERR_WEBEID_NATIVE_FATAL",
  ERR_WEBEID_ACTION_PENDING = "ERR_WEBEID_ACTION_PENDING",
  ERR_WEBEID_MISSING_PARAMETER = "ERR_WEBEID_MISSING_PARAMETER",
}

export declare enum Action {
  WARNING = "web-eid:warning",
  STATUS = "web-eid:status",
  STATUS_ACK = "web-eid:status-ack",
  STATUS_SUCCESS = "web-eid:status-success",
  STATUS_FAILURE = "web-eid:status-failure",
  AUTHENTICATE = "web-eid:authenticate",
  AUTHENTICATE_ACK = "web-eid:authenticate-ack",
  AUTHENTICATE_SUCCESS = "web-eid:authenticate-success",
  AUTHENTICATE_FAILURE = "web-eid:authenticate-failure",
  GET_SIGNING_CERTIFICATE = "web-eid:get-signing-certificate",
  GET_SIGNING_CERTIFICATE_ACK = "web-eid:get-signing-certificate-ack",
  GET_SIGNING_CERTIFICATE_SUCCESS = "web-eid:get-signing-certificate-success",
  GET_SIGNING_CERTIFICATE_FAILURE = "web-eid:get-signing-certificate-failure",
  SIGN = "web-eid:sign",
  SIGN_ACK = "web-eid:sign-ack",
  SIGN_SUCCESS = "web-eid:sign-success",
  SIGN_FAILURE = "web-eid:sign-failure",
}

export declare const config: Readonly<{
  VERSION: string;
  EXTENSION_HANDSHAKE_TIMEOUT: number;
  NATIVE_APP_HANDSHAKE_TIMEOUT: number;
  DEFAULT_USER_INTERACTION_TIMEOUT: number;
  MAX_EXTENSION_LOAD_DELAY: number;
}>;

export interface ActionOptions {
  /** Time in milliseconds the user has for a dialog (PIN entry); default 2 minutes. */
  userInteractionTimeout?: number;
  /** ISO 639-1 language code (accepted; the bridge's dialogs follow the desktop's language). */
  lang?: string;
  /** CNIE addition: the reader's name from the bridge's status, when several cards are present. */
  reader?: string;
}

export type SignatureHashFunction =
  "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512" | "SHA3-224" | "SHA3-256" | "SHA3-384" | "SHA3-512";
export type SignatureCryptoAlgorithm = "ECC" | "RSA";
export type SignaturePaddingScheme = "NONE" | "PKCS1.5" | "PSS";
export interface SignatureAlgorithm {
  hashFunction: SignatureHashFunction;
  paddingScheme: SignaturePaddingScheme;
  cryptoAlgorithm: SignatureCryptoAlgorithm;
}

export interface LibraryStatusResponse {
  library: string;
  extension: string;
  nativeApp: string;
}

export interface LibraryAuthenticateResponse {
  unverifiedCertificate: string;
  algorithm: "ES256" | "ES384" | "ES512" | "PS256" | "PS384" | "PS512" | "RS256" | "RS384" | "RS512";
  signature: string;
  format: string;
  appVersion: string;
}

export interface LibraryGetSigningCertificateResponse {
  certificate: string;
  supportedSignatureAlgorithms: Array<SignatureAlgorithm>;
}

export interface LibrarySignResponse {
  signatureAlgorithm: SignatureAlgorithm;
  signature: string;
}

export declare function status(): Promise<LibraryStatusResponse>;
export declare function authenticate(challengeNonce: string, options?: ActionOptions): Promise<LibraryAuthenticateResponse>;
export declare function getSigningCertificate(options?: ActionOptions): Promise<LibraryGetSigningCertificateResponse>;
export declare function sign(certificate: string, hash: string, hashFunction: string,
  options?: ActionOptions): Promise<LibrarySignResponse>;

/** CNIE addition: the bridge's URL (default https://127.0.0.1:28219). */
export declare function configure(options?: { url?: string; fetchImpl?: typeof fetch }): void;

/** Every error this module throws: Web eID's name and code, plus the bridge's detail. */
export declare class WebEidError extends Error {
  constructor(message?: string, extra?: Record<string, unknown>);
  code: ErrorCode;
  /** CNIE addition: the bridge's own code ("no-card", "pin-incorrect"...), when known. */
  cnieCode?: string;
  /** CNIE addition: PIN tries left, with cnieCode "pin-incorrect". */
  triesLeft?: number;
}
export declare class ActionPendingError extends WebEidError { code: ErrorCode.ERR_WEBEID_ACTION_PENDING; }
export declare class ActionTimeoutError extends WebEidError { code: ErrorCode.ERR_WEBEID_ACTION_TIMEOUT; }
export declare class ContextInsecureError extends WebEidError { code: ErrorCode.ERR_WEBEID_CONTEXT_INSECURE; }
export declare class ExtensionUnavailableError extends WebEidError { code: ErrorCode.ERR_WEBEID_EXTENSION_UNAVAILABLE; }
export declare class MissingParameterError extends WebEidError { code: ErrorCode.ERR_WEBEID_MISSING_PARAMETER; }
export declare class NativeFatalError extends WebEidError { code: ErrorCode.ERR_WEBEID_NATIVE_FATAL; }
export declare class NativeInvalidArgumentError extends WebEidError { code: ErrorCode.ERR_WEBEID_NATIVE_INVALID_ARGUMENT; }
export declare class NativeUnavailableError extends WebEidError { code: ErrorCode.ERR_WEBEID_NATIVE_UNAVAILABLE; }
export declare class UnknownError extends WebEidError { code: ErrorCode.ERR_WEBEID_UNKNOWN_ERROR; }
export declare class UserCancelledError extends WebEidError { code: ErrorCode.ERR_WEBEID_USER_CANCELLED; }
export declare class UserTimeoutError extends WebEidError { code: ErrorCode.ERR_WEBEID_USER_TIMEOUT; }
export declare class VersionInvalidError extends WebEidError { code: ErrorCode.ERR_WEBEID_VERSION_INVALID; }
export declare class VersionMismatchError extends WebEidError { code: ErrorCode.ERR_WEBEID_VERSION_MISMATCH; }

/** CNIE addition: the bridge's codes to the Web eID error classes. */
export declare const CODE_MAP: Readonly<Record<string, new (message?: string, extra?: Record<string, unknown>) => WebEidError>>;
