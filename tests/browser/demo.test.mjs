// Headless Chromium drives the citizen page of the demo portal (web/demo)
// through the real bridge (cnied, scripted pinentry) state by state, audits
// every state with axe-core (a WCAG level A violation fails the test; AA
// findings are reported), keeps a screenshot of each, and runs the Web
// eID-compatible API of the npm-packed web/ package against cnied.
//
// Started by tests/browser/run.sh, which provides PORTAL_URL, ARTIFACTS,
// CHROMIUM, USER_DATA_DIR, VARIANT (reference-card | pcsc | no-reader),
// STATE (no-reader | no-service, for that variant), PKG_DIR (the unpacked
// package), PINENTRY_SCRIPT_ENV (the scripted pinentry's answers, changed
// here to make the citizen cancel), CNIE_TOOL and CARD_CA (verify-token),
// and with PC/SC CARD_REMOVE_CMD / CARD_INSERT_CMD (virtual reader 0) and
// CARD2_INSERT_CMD / CARD2_REMOVE_CMD (a second card, reader 1).
//
// States: bridge not installed (the page pointed at a port where nothing
// listens), card ready (reference card; PC/SC: a card nobody has used yet
// must not be called unknown), a failure (the citizen cancels the PIN
// dialog: the message at the top says what to do, the step line is
// cleared), logged in, signed, identity shared (no raw keys, no empty
// rows), and with PC/SC: card removed, card back, two cards (the reader
// choice, then a login with the chosen reader, then the other card, whose
// PIN is blocked); no-reader variant: no reader, no PC/SC service.
import { chromium } from "playwright-core";
import { execFileSync, execSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { join, normalize } from "node:path";
import assert from "node:assert/strict";

const env = process.env;
const portal = env.PORTAL_URL;
const artifacts = env.ARTIFACTS;
const executablePath = env.CHROMIUM || "/usr/bin/chromium";
const ignoreTls = env.IGNORE_TLS === "1";
const variant = env.VARIANT || (env.DEMO_TRANSPORT === "pcsc" ? "pcsc" : "reference-card");
const stateOnly = env.STATE || "";
assert.ok(portal && artifacts && env.USER_DATA_DIR, "PORTAL_URL, ARTIFACTS and USER_DATA_DIR are required");
mkdirSync(artifacts, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const args = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage",
];
if (ignoreTls) args.push("--ignore-certificate-errors");

const context = await chromium.launchPersistentContext(env.USER_DATA_DIR + (stateOnly ? `-${stateOnly}` : ""), {
  executablePath, headless: true, args, ignoreHTTPSErrors: ignoreTls, viewport: { width: 1000, height: 1100 },
  // The page follows the browser's languages: the texts checked here are the
  // English ones whatever the machine's LANG (Arabic, French: l10n.test.mjs).
  locale: "en-US",
});
const page = context.pages()[0] || await context.newPage();
page.on("console", (m) => console.log(`[page ${m.type()}] ${m.text()}`));
page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));

const results = [];
const check = (name, ok, detail = "") => {
  results.push({ name, ok });
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
};
let step = 0;
const prefix = stateOnly ? `${stateOnly}-` : "";
const shot = async (name) => {
  step += 1;
  const path = `${artifacts}/${prefix}${String(step).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
};

// axe-core in the page as it is (page.evaluate runs outside the page's CSP).
const axeSummary = [];
async function audit(name) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag21a", "wcag2aa", "wcag21aa", "wcag22aa"] },
    resultTypes: ["violations"],
  }));
  const isA = (v) => v.tags.some((x) => x === "wcag2a" || x === "wcag21a");
  const a = r.violations.filter(isA);
  const aa = r.violations.filter((v) => !isA(v));
  const nodes = (vs) => vs.reduce((n, v) => n + v.nodes.length, 0);
  for (const v of r.violations) {
    console.log(`  axe ${isA(v) ? "A " : "AA"} ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }
  writeFileSync(`${artifacts}/axe-${prefix}${name}.json`, JSON.stringify(r.violations, null, 2));
  axeSummary.push({ state: `${prefix}${name}`, A: nodes(a), AA: nodes(aa) });
  check(`axe: no WCAG A violation in state ${name}`, a.length === 0, `A ${a.map((v) => v.id).join(",") || "none"}; ` +
    `AA ${aa.map((v) => v.id).join(",") || "none"}`);
}

// Opens the page; when the browser would ask the Local Network Access
// question first (permission "prompt"), the page waits for the citizen's
// click on "Check my card reader": click it.
async function openPage() {
  await page.goto(portal + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.body.dataset.started === "1", null, { timeout: 30000 });
  if ((await page.evaluate(() => document.body.dataset.state)) === "idle") await page.click("#connect");
}

async function state(want, timeout = 30000) {
  await page.waitForFunction((w) => document.body.dataset.state === w, want, { timeout }).catch(() => {});
  return page.evaluate(() => document.body.dataset.state);
}
const text = (sel) => page.textContent(sel).then((s) => (s || "").replace(/\s+/g, " ").trim());

// The top of the window (the sticky panel) holds the state and any failure.
async function atTop(sel) {
  return page.evaluate((s) => {
    const r = document.querySelector(s).getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight / 2;
  }, sel);
}

// Waits for body[data-KEY] ("ok", "refused" or "error").
async function outcome(key) {
  const h = await page.waitForFunction((k) => document.body.dataset[k], key, { timeout: 120000 });
  return h.jsonValue();
}

function pinentryAnswers(lines) {
  if (env.PINENTRY_SCRIPT_ENV) writeFileSync(env.PINENTRY_SCRIPT_ENV, lines.join("\n") + (lines.length ? "\n" : ""));
}

// What a page shows a citizen: no code, field key, or developer detail.
async function noDeveloperText(where) {
  const body = await text("body");
  const bad = [/local network permission:/i, /\b(names|mrz)\.\w+/, /optionalData/, /\bundefined\b/, /\bnull\b/,
    /\[object Object\]/, /CnieBridgeError/, /ERR_WEBEID/].filter((re) => re.test(body));
  check(`no developer text on the page (${where})`, bad.length === 0, bad.join(" "));
}

// The npm package, unpacked, served by the test at the portal's origin.
async function servePackage() {
  assert.ok(env.PKG_DIR && existsSync(join(env.PKG_DIR, "package.json")), "PKG_DIR");
  await page.route(`${portal}/pkg/**`, (route) => {
    const rel = normalize(new URL(route.request().url()).pathname.slice("/pkg/".length));
    const file = join(env.PKG_DIR, rel);
    if (rel.startsWith("..") || !existsSync(file)) return route.fulfill({ status: 404, body: "" });
    const type = file.endsWith(".js") ? "text/javascript" : "application/octet-stream";
    return route.fulfill({ status: 200, body: readFileSync(file), headers: { "Content-Type": type } });
  });
}

async function deadPort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// ---- the no-reader variant -------------------------------------------------
async function runNoReader() {
  await openPage();
  const want = stateOnly === "no-service" ? "no-service" : "no-reader";
  const st = await state(want);
  const panel = await text("#card-state");
  check(`page says ${want}`, st === want, `${st}: ${panel}`);
  check("the state is at the top of the window", await atTop("#card-state"));
  check("the state says what to do next", want === "no-reader" ? /Connect your card reader/.test(panel)
    : /Restart your computer/.test(panel), panel);
  await shot(want);
  await audit(want);
  await page.click("#login-btn");
  const login = await outcome("login");
  const notice = await text("#notice");
  check(`log in without ${want === "no-reader" ? "a reader" : "the service"} fails with a message at the top`,
    login === "error" && (await atTop("#notice")) &&
    (want === "no-reader" ? /No card reader is connected/.test(notice) : /service .* not running/.test(notice)), notice);
  check("step line cleared after the failure", (await text("#progress")) === "");
  await shot(`${want}-login-failed`);
  await audit(`${want}-failure`);
  await noDeveloperText(want);
}

// ---- the Web eID-compatible API of the packed package ---------------------
async function runWebEidPackage(readerName) {
  await servePackage();
  const bridgeUrl = await page.evaluate(async () => (await (await fetch("/config.json")).json()).bridge);
  const exportsSeen = await page.evaluate(async () => Object.keys(await import("/pkg/web-eid.js")).sort());
  check("packed package: web-eid.js exports Web eID's API",
    ["authenticate", "getSigningCertificate", "sign", "status", "ErrorCode", "Action", "config"].every((k) => exportsSeen.includes(k)),
    exportsSeen.join(","));

  // authenticate(challengeNonce) with a nonce made here; the token is
  // checked by cnie-tool verify-token for this origin and nonce.
  const nonce = randomBytes(32).toString("base64");
  const auth = await page.evaluate(async ({ url, nonce, reader }) => {
    const webeid = await import("/pkg/web-eid.js");
    webeid.configure({ url });
    const opts = { userInteractionTimeout: 120000, lang: "en" };
    if (reader) opts.reader = reader;
    try {
      return { token: await webeid.authenticate(nonce, opts) };
    } catch (e) {
      return { error: `${e.name} ${e.code} ${e.cnieCode} ${e.message}` };
    }
  }, { url: bridgeUrl, nonce, reader: readerName });
  check("packed package: authenticate(challengeNonce, options) answers a token", !!auth.token, auth.error || "");
  if (auth.token) {
    check("the token has exactly Web eID's fields",
      JSON.stringify(Object.keys(auth.token).sort()) ===
        JSON.stringify(["algorithm", "appVersion", "format", "signature", "unverifiedCertificate"]),
      Object.keys(auth.token).join(","));
    const tokenFile = join(env.USER_DATA_DIR + "-token.json");
    writeFileSync(tokenFile, JSON.stringify(auth.token));
    let out;
    try {
      out = execFileSync(env.CNIE_TOOL, ["verify-token", "--json", "--origin", portal, "--nonce", nonce,
        "--ca", env.CARD_CA, "--token", tokenFile], { encoding: "utf8" });
    } catch (e) {
      out = String(e.stdout || e);
    }
    const v = JSON.parse(out.trim() || "{}");
    check("cnie-tool verify-token accepts the package's token", v.valid === true && v.reason === "ok", out.trim());
  }

  const signed = await page.evaluate(async ({ url, reader }) => {
    const webeid = await import("/pkg/web-eid.js");
    webeid.configure({ url });
    const opts = reader ? { reader } : {};
    const cert = await webeid.getSigningCertificate(opts);
    const doc = "Web eID API test document";
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(doc)));
    const b64 = btoa(String.fromCharCode(...hash));
    const sig = await webeid.sign(cert.certificate, b64, "SHA-256", opts);
    const v = await (await fetch("/api/verify-signature", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ document: doc, certificate: cert.certificate, signature: sig.signature,
        signatureAlgorithm: sig.signatureAlgorithm }) })).json();
    return { certKeys: Object.keys(cert).sort(), algs: cert.supportedSignatureAlgorithms, sigKeys: Object.keys(sig).sort(),
      alg: sig.signatureAlgorithm, valid: v.valid };
  }, { url: bridgeUrl, reader: readerName }).catch((e) => ({ error: String(e) }));
  check("packed package: getSigningCertificate() answers {certificate, supportedSignatureAlgorithms}",
    JSON.stringify(signed.certKeys) === JSON.stringify(["certificate", "supportedSignatureAlgorithms"]) &&
    Array.isArray(signed.algs) && signed.algs.length > 0, JSON.stringify(signed).slice(0, 300));
  check("packed package: sign(certificate, hash, hashFunction) answers {signature, signatureAlgorithm}, verified by the portal",
    JSON.stringify(signed.sigKeys) === JSON.stringify(["signature", "signatureAlgorithm"]) && signed.valid === true &&
    signed.alg && signed.alg.hashFunction === "SHA-256", JSON.stringify(signed).slice(0, 300));

  // The citizen cancels: Web eID's UserCancelledError, code on the error.
  pinentryAnswers(["PINENTRY_SCRIPT_CANCEL=1"]);
  const cancelled = await page.evaluate(async ({ url, nonce, reader }) => {
    const webeid = await import("/pkg/web-eid.js");
    webeid.configure({ url });
    try {
      await webeid.authenticate(nonce, reader ? { reader } : undefined);
      return { ok: true };
    } catch (e) {
      return { name: e.name, code: e.code, isError: e instanceof Error,
        matches: e.code === webeid.ErrorCode.ERR_WEBEID_USER_CANCELLED };
    }
  }, { url: bridgeUrl, nonce: randomBytes(32).toString("base64"), reader: readerName });
  pinentryAnswers([]);
  check("packed package: a cancelled PIN dialog is UserCancelledError / ERR_WEBEID_USER_CANCELLED",
    cancelled.name === "UserCancelledError" && cancelled.matches && cancelled.isError, JSON.stringify(cancelled));
}

// ---- the card flows (reference card and PC/SC) ----------------------------
async function runCardFlows() {
  // Bridge not installed: the page is pointed at a port where nothing
  // listens (its config, and its CSP's connect-src, name that port: the
  // connection is really refused, not blocked by the page's policy).
  const dead = await deadPort();
  const deadUrl = `https://127.0.0.1:${dead}`;
  await page.route(`${portal}/config.json`, (route) => route.fulfill({ status: 200,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ bridge: deadUrl, origin: portal, installUrl: "https://example.invalid/cnie" }) }));
  await page.route(`${portal}/`, async (route) => {
    const res = await route.fetch();
    const headers = { ...res.headers() };
    headers["content-security-policy"] = headers["content-security-policy"].replace("connect-src 'self'",
      `connect-src 'self' ${deadUrl}`);
    await route.fulfill({ response: res, headers });
  });
  const cspErrors = [];
  const onConsole = (m) => { if (/Content Security Policy/.test(m.text())) cspErrors.push(m.text()); };
  page.on("console", onConsole);
  await openPage();
  let st = await state("bridge-missing");
  const missing = await text("#card-state");
  check("bridge not installed: the page says so and how to install", st === "bridge-missing" &&
    /not installed/.test(missing) && /Install the CNIE card software/.test(missing), missing);
  check("bridge not installed: the install link is offered",
    (await page.getAttribute("#card-state a", "href")) === "https://example.invalid/cnie");
  check("bridge not installed: a Try again button", await page.isVisible("#connect") && (await text("#connect")) === "Try again");
  check("the state is at the top of the window", await atTop("#card-state"));
  await shot("bridge-not-installed");
  await audit("bridge-not-installed");
  check("bridge not installed: refused by the machine, not by the page's CSP", cspErrors.length === 0,
    cspErrors.join(" | "));
  page.off("console", onConsole);
  await page.unroute(`${portal}/config.json`);
  await page.unroute(`${portal}/`);

  // Card ready.
  await page.goto(portal + "/", { waitUntil: "load" });
  check("page is a secure context", await page.evaluate(() => window.isSecureContext));
  await page.waitForFunction(() => document.body.dataset.started === "1", null, { timeout: 30000 });
  if ((await page.evaluate(() => document.body.dataset.state)) === "idle") await page.click("#connect");
  st = await state("ready");
  let panel = await text("#card-state");
  check("card ready", st === "ready", `${st}: ${panel}`);
  if (st !== "ready") {
    // Diagnostics: the bridge as the portal's server sees it, and the
    // bridge URL the page was given.
    console.log(`bridge through the portal: ${await page.evaluate(async () =>
      JSON.stringify(await (await fetch("/api/bridge/status")).json()))}`);
    console.log(`config: ${await page.evaluate(async () => JSON.stringify(await (await fetch("/config.json")).json()))}`);
  }
  check("a card nobody has used yet is not called unknown", !/not a Moroccan|unknown/i.test(panel), panel);
  if (variant === "pcsc") {
    check("PC/SC: the reader is named", /CNIE Virtual Contact Reader/.test(panel), panel);
  } else {
    check("reference card: recognised", /Your ID card is ready/.test(panel), panel);
  }
  await shot("card-ready");
  await audit("card-ready");
  await noDeveloperText("card ready");

  // Keyboard, from a fresh load: the skip link, then the tasks in reading order.
  await openPage();
  await state("ready");
  await page.evaluate(() => { document.activeElement?.blur(); window.getSelection().removeAllRanges(); });
  await page.mouse.click(5, 5); // the focus starting point: the top of the page
  const order = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    order.push(await page.evaluate(() => `${document.activeElement.id || document.activeElement.className}` +
      (document.body.dataset.state === "ready" ? "" : `(${document.body.dataset.state})`)));
  }
  const idx = (id) => order.indexOf(id);
  check("keyboard: focus order skip link, log in, document, sign, identity",
    idx("skip") === 0 && idx("login-btn") > 0 && idx("login-btn") < idx("document") &&
    idx("document") < idx("sign-btn") && idx("sign-btn") < idx("identity-btn"), order.join(" > "));

  // A failure: the citizen cancels the PIN dialog.
  pinentryAnswers(["PINENTRY_SCRIPT_CANCEL=1"]);
  await page.focus("#login-btn");
  await page.keyboard.press("Enter");
  let login = await outcome("login");
  pinentryAnswers([]);
  const notice = await text("#notice");
  check("a cancelled login is a failure shown at the top with what to do next",
    login === "error" && /You cancelled/.test(notice) && /Press the button again/.test(notice) && (await atTop("#notice")),
    notice);
  check("the failure is in an alert region", (await page.getAttribute("#notice", "role")) === "alert");
  check("the step line is cleared after the failure", (await text("#progress")) === "", await text("#progress"));
  await shot("failure-cancelled");
  await audit("failure");
  await noDeveloperText("failure");

  // Log in (with the keyboard).
  await page.focus("#login-btn");
  await page.keyboard.press("Enter");
  login = await outcome("login");
  const loginText = await text("#login-result");
  check("login verified by the portal", login === "ok", loginText);
  check("login names the card holder", /BENALI/.test(loginText), loginText);
  check("the failure message is gone after a success", (await text("#notice")) === "");
  check("the step line is cleared after the login", (await text("#progress")) === "");
  st = await state("ready");
  panel = await text("#card-state");
  check("after a login the card is recognised", /Your ID card is ready/.test(panel), panel);
  await shot("logged-in");
  await audit("logged-in");

  const replay = await page.evaluate(async () => {
    const r = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(window.__lastLogin) });
    return r.json();
  });
  check("replayed login refused", replay.valid === false && /nonce/.test(replay.reason), JSON.stringify(replay));

  await page.click("#sign-btn");
  const sign = await outcome("sign");
  check("signature verified by the portal", sign === "ok", await text("#sign-result"));
  await shot("signed");

  await page.click("#identity-btn");
  const identity = await outcome("identity");
  check("identity read with consent", identity === "ok", await text("#identity-result") + await text("#notice"));
  const rows = await page.evaluate(() => [...document.querySelectorAll("#identity dt")].map((dt) =>
    [dt.textContent, dt.nextElementSibling ? dt.nextElementSibling.textContent : ""]));
  const idText = rows.map((r) => r.join(": ")).join(" | ");
  check("identity shows the holder's names", /BENALI, FATIMA ZAHRA/.test(idText), idText);
  check("the Arabic names survive the whole chain (DG11 UTF-8)", idText.includes("فاطمة الزهراء"), idText);
  check("identity rows have readable labels and no empty value",
    rows.length > 3 && rows.every(([k, v]) => /^[A-Z][a-z ]+$/.test(k) && v.trim() !== ""), idText);
  const photo = await page.evaluate(() => {
    const img = document.getElementById("photo");
    return { loaded: img.dataset.loaded === "1", w: img.naturalWidth, h: img.naturalHeight, alt: img.alt };
  });
  check("photo shown with a text alternative", photo.loaded && photo.w > 0 && photo.h > 0 && photo.alt.length > 0,
    JSON.stringify(photo));
  await shot("identity");
  await audit("identity");
  await noDeveloperText("identity");

  // The audit itself can fail: an image without a text alternative, put in
  // for a moment, is a level A violation axe must report.
  const planted = await page.evaluate(async () => {
    const img = document.createElement("img");
    img.src = document.getElementById("photo").src;
    img.id = "planted";
    document.querySelector("main").append(img);
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a"] } });
    img.remove();
    return r.violations.filter((v) => v.nodes.some((n) => n.target.join(" ").includes("planted"))).map((v) => v.id);
  });
  check("the audit reports a planted level A violation (image without alt)", planted.includes("image-alt"),
    planted.join(","));

  if (variant === "pcsc") await runRemovalAndChoice();
  await runWebEidPackage(undefined);
}

// PC/SC: removal, re-insertion, two cards and the reader choice.
async function runRemovalAndChoice() {
  execSync(env.CARD_REMOVE_CMD, { stdio: "inherit" });
  let st = await state("no-card");
  const panel = await text("#card-state");
  check("card removed: the page asks for the card", st === "no-card" && /Insert your ID card/.test(panel), panel);
  await shot("no-card");
  await audit("no-card");
  execSync(env.CARD_INSERT_CMD, { stdio: "inherit" });
  st = await state("ready");
  check("card back: ready again", st === "ready", await text("#card-state"));
  await shot("card-back");

  execSync(env.CARD2_INSERT_CMD, { stdio: "inherit" });
  st = await state("choose");
  const choice = await page.evaluate(() => ({
    visible: !document.getElementById("reader-choice").hidden,
    options: [...document.querySelectorAll("#reader-options input")].map((i) => i.value),
  }));
  check("two cards: the page asks which one", st === "choose" && choice.visible && choice.options.length === 2,
    JSON.stringify(choice));
  await shot("choose-reader");
  await audit("choose-reader");
  // Choose with the keyboard: focus the first option, select it with Space.
  await page.focus("#reader-options input");
  await page.keyboard.press("Space");
  st = await state("ready");
  const chosen = await page.evaluate(() => document.querySelector("#reader-options input:checked")?.value);
  check("a reader chosen with the keyboard", st === "ready" && !!chosen, chosen);
  await page.click("#login-btn");
  const login = await outcome("login");
  check("log in with the chosen card while two are inserted", login === "ok",
    (await text("#login-result")) + (await text("#notice")));
  await shot("chosen-reader-logged-in");
  // The other card (its PIN blocked): the failure says so and what to do.
  await page.focus("#reader-options input:not(:checked)");
  await page.keyboard.press("Space");
  await state("ready");
  // Its CAN (contactless: PACE) is not the one the pinentry answers first.
  await page.click("#login-btn");
  const wrongCan = await outcome("login");
  const canNotice = await text("#notice");
  check("a wrong card access number: the failure says where to find the right one",
    wrongCan === "error" && /card access number was wrong/.test(canNotice) && /printed on the front/.test(canNotice),
    canNotice);
  await shot("can-incorrect");
  pinentryAnswers(["PINENTRY_SCRIPT_CAN=456789"]);
  await page.click("#login-btn");
  const blocked = await outcome("login");
  pinentryAnswers([]);
  const notice = await text("#notice");
  check("the card with a blocked PIN: the failure says so and how to unblock it",
    blocked === "error" && /PIN is blocked/.test(notice) && /PUK/.test(notice), notice);
  check("the step line is cleared after that failure", (await text("#progress")) === "");
  await shot("pin-blocked");
  await audit("pin-blocked");
  execSync(env.CARD2_REMOVE_CMD, { stdio: "inherit" });
  const alone = await page.waitForFunction(() => document.getElementById("reader-choice").hidden &&
    document.body.dataset.state === "ready", null, { timeout: 30000 }).then(() => true, () => false);
  check("second card out: ready again without a choice", alone, await text("#card-state"));
}

let failed = false;
try {
  if (variant === "no-reader") await runNoReader();
  else await runCardFlows();
} catch (e) {
  console.log(`FAIL exception: ${e.stack || e}`);
  failed = true;
  try { await shot("failure"); } catch (_) { /* the browser is gone */ }
} finally {
  await context.close();
}
console.log("axe summary (violating nodes per state, WCAG A / AA):");
for (const s of axeSummary) console.log(`  ${s.state}: A ${s.A}, AA ${s.AA}`);
writeFileSync(`${artifacts}/axe-${prefix}summary.json`, JSON.stringify(axeSummary, null, 2));
const bad = results.filter((r) => !r.ok);
console.log(`${results.length - bad.length} passed, ${bad.length} failed`);
process.exit(failed || bad.length ? 1 : 0);
