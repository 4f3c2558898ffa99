// Headless Chromium drives the demo portal (web/demo) through the real
// bridge (cnied on the reference card, scripted pinentry): connect, log in
// (the portal's server verifies the Web eID token with cnie-tool
// verify-token), sign a document hash (verified with openssl), read identity
// with consent and show the photo.  Started by tests/browser/run.sh, which
// provides PORTAL_URL, ARTIFACTS, CHROMIUM and USER_DATA_DIR, and
// DEMO_TRANSPORT (scripts/demo: reference-card or pcsc).  With
// CARD_REMOVE_CMD (PC/SC on a virtual reader) the card is then removed while
// the page listens to the bridge's events: the page must show the removal
// (and the card back after CARD_INSERT_CMD).
import { chromium } from "playwright-core";
import { execSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import assert from "node:assert/strict";

const portal = process.env.PORTAL_URL;
const artifacts = process.env.ARTIFACTS;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const userDataDir = process.env.USER_DATA_DIR;
const ignoreTls = process.env.IGNORE_TLS === "1";
const transport = process.env.DEMO_TRANSPORT || "reference-card";
const removeCmd = process.env.CARD_REMOVE_CMD || "";
const insertCmd = process.env.CARD_INSERT_CMD || "";
assert.ok(portal && artifacts && userDataDir, "PORTAL_URL, ARTIFACTS and USER_DATA_DIR are required");
mkdirSync(artifacts, { recursive: true });

const args = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage",
];
if (ignoreTls) args.push("--ignore-certificate-errors");

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath, headless: true, args, ignoreHTTPSErrors: ignoreTls, viewport: { width: 1000, height: 1200 },
});
const page = context.pages()[0] || await context.newPage();
page.on("console", (m) => console.log(`[page ${m.type()}] ${m.text()}`));
page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
let step = 0;
const shot = async (name) => {
  step += 1;
  const path = `${artifacts}/${String(step).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
};
const results = [];
const check = (name, ok, detail = "") => {
  results.push({ name, ok });
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
};

// Waits for body[data-KEY] or an error from the page; returns the value.
async function outcome(key) {
  const handle = await page.waitForFunction(
    (k) => document.body.dataset[k] || (document.body.dataset.lastError ? "error" : ""), key,
    { timeout: 120000 });
  const v = await handle.jsonValue();
  if (v === "error") {
    const msg = await page.textContent("#error");
    await page.evaluate(() => { delete document.body.dataset.lastError; });
    return `error ${msg}`;
  }
  return v;
}

let failed = false;
try {
  await page.goto(portal + "/", { waitUntil: "load" });
  await shot("loaded");
  check("page is a secure context", await page.evaluate(() => window.isSecureContext));

  await page.click("#connect");
  const connected = await outcome("connected");
  check("bridge detected", connected === "1", connected);
  const status = await page.textContent("#status");
  if (transport === "pcsc") {
    // PC/SC: "recognised" is learnt by the first card operation, so the card
    // may still read "unknown card" here; the reader must have one.
    check("status shows the card in the virtual contact reader",
      /CNIE Virtual Contact Reader[^;]*: (CNIE|unknown) card/.test(status), status);
  } else {
    check("status shows the reference card", /CNIE card/.test(status), status);
  }
  // The event stream starts with the current state: the card is inserted.
  await page.waitForFunction(
    () => [...document.querySelectorAll("#events li")].some((li) => /^card .*: inserted$/.test(li.textContent)),
    null, { timeout: 30000 });
  check("events stream shows the inserted card", true);
  await shot("connected");

  await page.click("#login-btn");
  const login = await outcome("login");
  const loginText = await page.textContent("#login-result");
  check("login verified by the portal", login === "ok", loginText);
  check("login names the card holder", /BENALI/.test(loginText), loginText);
  await shot("logged-in");

  // The same token again: the nonce is single use.
  const replay = await page.evaluate(async () => {
    const r = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(window.__lastLogin) });
    return r.json();
  });
  check("replayed login refused", replay.valid === false && /nonce/.test(replay.reason), JSON.stringify(replay));

  await page.click("#sign-btn");
  const sign = await outcome("sign");
  const signText = await page.textContent("#sign-result");
  check("signature verified by the portal", sign === "ok", signText);
  await shot("signed");

  await page.click("#identity-btn");
  const identity = await outcome("identity");
  check("identity read with consent", identity === "ok", await page.textContent("#identity-result"));
  const idText = await page.textContent("#identity");
  check("identity shows the holder's names", /BENALI, FATIMA ZAHRA/.test(idText), idText.slice(0, 200));
  check("the Arabic names survive the whole chain (DG11 UTF-8)", idText.includes("فاطمة الزهراء"),
    idText.slice(0, 200));
  const photo = await page.evaluate(() => {
    const img = document.getElementById("photo");
    return { loaded: img.dataset.loaded === "1", w: img.naturalWidth, h: img.naturalHeight };
  });
  check("photo shown", photo.loaded && photo.w > 0 && photo.h > 0, JSON.stringify(photo));
  await shot("identity");

  if (removeCmd) {
    // Card removal while the page listens: the bridge pushes "card removed"
    // (SSE), the page lists it and its status shows no card.
    const lines = () => page.evaluate(() => [...document.querySelectorAll("#events li")].map((li) => li.textContent));
    const before = (await lines()).length;
    execSync(removeCmd, { stdio: "inherit" });
    await page.waitForFunction(
      (n) => [...document.querySelectorAll("#events li")].slice(n).some((li) => /^card .*: removed$/.test(li.textContent)),
      before, { timeout: 30000 });
    const removed = (await lines()).slice(before);
    check("page shows the card-removal event", removed.some((l) => /^card CNIE Virtual Contact Reader.*: removed$/.test(l)),
      removed.join(" | "));
    await page.waitForFunction(() => /Contact Reader[^;]*: no card/.test(document.getElementById("status").textContent),
      null, { timeout: 30000 });
    check("status shows no card after removal", true, await page.textContent("#status"));
    await shot("card-removed");
    if (insertCmd) {
      const n = (await lines()).length;
      execSync(insertCmd, { stdio: "inherit" });
      await page.waitForFunction(
        (k) => [...document.querySelectorAll("#events li")].slice(k).some((li) => /^card .*: inserted$/.test(li.textContent)),
        n, { timeout: 30000 });
      check("page shows the card inserted again", true, (await lines()).slice(n).join(" | "));
      await shot("card-reinserted");
    }
  } else {
    console.log(`SKIP card removal: no way to remove the card on the ${transport} transport`);
  }
} catch (e) {
  console.log(`FAIL exception: ${e.stack || e}`);
  failed = true;
  try { await shot("failure"); } catch (_) { /* the browser is gone */ }
} finally {
  await context.close();
}
const bad = results.filter((r) => !r.ok);
console.log(`${results.length - bad.length} passed, ${bad.length} failed`);
process.exit(failed || bad.length ? 1 : 0);
