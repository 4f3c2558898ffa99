// A portal's TypeScript written against Web eID's library, as its
// documentation shows it, with only the import changed: it must type-check
// against the package's hand-written declarations (web/web-eid.d.ts), and
// the bridge's own API against web/cnie-bridge.d.ts.  Compiled with
// `tsc --noEmit --strict` by tests/browser/package-test.sh; never run.
import * as webeid from "@cnie/bridge/web-eid";
import type { ActionOptions, LibraryAuthenticateResponse, SignatureAlgorithm } from "@cnie/bridge/web-eid";
import { CnieBridge, CnieBridgeError, ErrorCode, cardState } from "@cnie/bridge";
import type { BridgeStatus, ReaderStatus } from "@cnie/bridge";

export async function login(challengeNonce: string): Promise<LibraryAuthenticateResponse | null> {
  const options: ActionOptions = { lang: "fr", userInteractionTimeout: 60000 };
  try {
    const token = await webeid.authenticate(challengeNonce, options);
    const fields: string[] = [token.unverifiedCertificate, token.algorithm, token.signature, token.format, token.appVersion];
    return fields.length === 5 ? token : null;
  } catch (error) {
    if (error instanceof webeid.UserCancelledError) return null;
    if (error instanceof Error && (error as webeid.WebEidError).code === webeid.ErrorCode.ERR_WEBEID_USER_TIMEOUT) return null;
    throw error;
  }
}

export async function signDocument(hash: string, hashFunction: string): Promise<SignatureAlgorithm> {
  const { certificate, supportedSignatureAlgorithms } = await webeid.getSigningCertificate({ lang: "ar" });
  const first: SignatureAlgorithm | undefined = supportedSignatureAlgorithms[0];
  const { signature, signatureAlgorithm } = await webeid.sign(certificate, hash, hashFunction, { lang: "ar" });
  if (!signature || !first) throw new webeid.NativeFatalError();
  return signatureAlgorithm;
}

export async function versions(): Promise<string> {
  const { library, extension, nativeApp } = await webeid.status();
  const actions: string[] = [webeid.Action.AUTHENTICATE, webeid.Action.SIGN];
  return `${library} ${extension} ${nativeApp} ${webeid.config.VERSION} ${actions.join(",")}`;
}

export async function native(): Promise<string> {
  const bridge = new CnieBridge({ url: "https://127.0.0.1:28219", timeoutMs: 60000 });
  const s: BridgeStatus = await bridge.status();
  const r: ReaderStatus | undefined = s.readers.find((x) => x.card);
  const state = cardState(r, { falseMeansChecked: s.readers.some((x) => x.recognised === null) });
  try {
    const id = await bridge.identity(["names", "photo"], undefined, { reader: r?.name });
    return `${state} ${id.names?.fullName ?? ""}`;
  } catch (e) {
    if (e instanceof CnieBridgeError && e.code === ErrorCode.PIN_INCORRECT) return String(e.triesLeft);
    throw e;
  }
}
