// Type declarations of cnie-bridge.js (written by hand; the contract is
// docs/bridge-api.md of the CNIE middleware).

export declare const DEFAULT_BRIDGE_URL: "https://127.0.0.1:28219";

/**
 * Translations of the client's own error messages: the "messages" object of
 * a JSON catalogue made from the project's po/LANG.po ({english: translation});
 * null: English.  Codes are never translated.
 */
export declare function setMessages(messages: Record<string, string> | null): void;

/** The bridge's stable error codes plus the client's own. */
export declare const ErrorCode: Readonly<{
  BAD_REQUEST: "bad-request";
  ORIGIN_NOT_ALLOWED: "origin-not-allowed";
  NOT_FOUND: "not-found";
  NO_SERVICE: "no-service";
  NO_READER: "no-reader";
  NO_CARD: "no-card";
  CARD_NOT_RECOGNISED: "card-not-recognised";
  MULTIPLE_CARDS: "multiple-cards";
  USER_CANCELLED: "user-cancelled";
  PIN_INCORRECT: "pin-incorrect";
  PIN_BLOCKED: "pin-blocked";
  BUSY: "busy";
  TIMEOUT: "timeout";
  CARD_ERROR: "card-error";
  PAYLOAD_TOO_LARGE: "payload-too-large";
  CAN_INCORRECT: "can-incorrect";
  CAN_REQUIRED: "can-required";
  PIN_FORMAT: "pin-format";
  CARD_RESET: "card-reset";
  READER_ACCESS_DENIED: "reader-access-denied";
  DIALOG_FAILED: "dialog-failed";
  SHUTTING_DOWN: "shutting-down";
  INTERNAL_ERROR: "internal-error";
  IO_ERROR: "io-error";
  /** Kiosk mode: a PIN operation on a reader without PIN pad. */
  PINPAD_REQUIRED: "pinpad-required";
  /** Kiosk mode: the card needs a CAN, which no dialog may ask. */
  PACE_READER_REQUIRED: "pace-reader-required";
  BRIDGE_UNREACHABLE: "bridge-unreachable";
  PERMISSION_DENIED: "permission-denied";
  INSECURE_CONTEXT: "insecure-context";
  BAD_RESPONSE: "bad-response";
  ABORTED: "aborted";
}>;
export type BridgeErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export declare class CnieBridgeError extends Error {
  constructor(code: BridgeErrorCode | string, message?: string,
    options?: { status?: number; triesLeft?: number; cause?: unknown });
  name: "CnieBridgeError";
  /** One of ErrorCode (a newer bridge may send codes this version does not list). */
  code: BridgeErrorCode | string;
  /** HTTP status; 0 when the bridge did not answer. */
  status: number;
  /** PIN tries left, with pin-incorrect. */
  triesLeft?: number;
}

export interface ReaderStatus {
  name: string;
  card: boolean;
  /** true: a CNIE card; false: not one; null: not checked yet. */
  recognised: boolean | null;
  pinpad: boolean;
}

export interface BridgeStatus {
  version: string;
  transport: "pcsc" | "reference-card";
  readers: ReaderStatus[];
  /** Present when PC/SC is unusable (readers then empty). */
  service?: BridgeErrorCode | string;
}

export interface BridgeEvent {
  type: "reader" | "card";
  reader: string;
  state: "added" | "removed" | "inserted";
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** This call's time limit in milliseconds (default: the bridge's timeoutMs). */
  timeoutMs?: number;
}

export interface CardOptions extends RequestOptions {
  /** The reader's exact name from status(); needed when several readers hold a card. */
  reader?: string;
}

export interface SignOptions extends CardOptions {
  /**
   * The document's title, shown in the consent dialog beside the origin as
   * the site's own words: 1 to 100 characters of one-line printable text (no
   * control, bidirectional or invisible formatting character), else the
   * bridge answers 400 bad-request naming "description".
   */
  description?: string;
}

export type HashFunction = "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512";

export interface SignatureAlgorithm {
  cryptoAlgorithm: "ECC" | "RSA";
  hashFunction: string;
  paddingScheme: "NONE" | "PKCS1.5" | "PSS";
}

export interface AuthToken {
  unverifiedCertificate: string;
  algorithm: "ES256" | "ES384" | "ES512" | "PS256" | "PS384" | "PS512" | "RS256" | "RS384" | "RS512";
  signature: string;
  format: string;
  appVersion: string;
}

export interface CertificateResult {
  /** base64 DER */
  certificate: string;
  supportedSignatureAlgorithms: SignatureAlgorithm[];
}

export interface SignResult {
  /** base64; ECDSA as raw r||s */
  signature: string;
  signatureAlgorithm: SignatureAlgorithm;
}

export type IdentityField = "mrz" | "names" | "photo" | "raw";

export interface Identity {
  mrz?: {
    format: string; documentCode: string; issuingState: string; documentNumber: string;
    optionalData: string; optionalData2?: string; sex: string; birthDate: string; expiryDate: string;
    nationality: string; surname: string; givenNames: string;
  };
  names?: {
    fullName: string; otherNames: string[]; fullDateOfBirth?: string; placeOfBirth?: string;
    personalNumber?: string;
  };
  photo?: { format: "jpeg" | "jp2"; data: string };
  raw?: { com: string; sod: string; dg: Record<string, string> };
  activeAuth?: { signature: string; verified: boolean };
  chipAuth?: boolean;
  /** How the chip proved it holds DG14's key: PACE Chip Authentication Mapping or Chip Authentication. */
  chipAuthMethod?: "cam" | "ca";
}

export type CardState = "no-card" | "cnie" | "not-checked" | "not-recognised";

export declare class CnieBridge {
  constructor(options?: { url?: string; timeoutMs?: number; fetchImpl?: typeof fetch });
  readonly url: string;
  timeoutMs: number;
  /** "granted" | "prompt" | "denied" | "unsupported" (Local Network Access). */
  static permissionState(): Promise<"granted" | "prompt" | "denied" | "unsupported">;
  detect(options?: RequestOptions): Promise<BridgeStatus>;
  status(options?: RequestOptions): Promise<BridgeStatus>;
  /** Returns a function that closes the stream. */
  events(handler: (event: BridgeEvent) => void, onError?: (error: CnieBridgeError) => void): () => void;
  authenticate(challengeNonce: string, options?: CardOptions): Promise<AuthToken>;
  getCertificate(type?: "auth" | "sign", options?: CardOptions): Promise<CertificateResult>;
  sign(certificate: string, hash: Uint8Array | ArrayBuffer | string, hashFunction?: HashFunction,
    options?: SignOptions): Promise<SignResult>;
  identity(fields?: IdentityField[], challenge?: Uint8Array | ArrayBuffer | string,
    options?: CardOptions): Promise<Identity>;
}

export declare function cardState(reader: ReaderStatus | null | undefined,
  options?: { falseMeansChecked?: boolean }): CardState;
export declare function digest(data: string | BufferSource, hashFunction?: HashFunction): Promise<Uint8Array>;
export declare function base64ToBytes(b64: string): Uint8Array;
export declare function toBase64(bytes: Uint8Array | ArrayBuffer): string;
