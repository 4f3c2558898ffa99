// Headless Chromium at the kiosk (web/kiosk, docs/kiosk.md), cnied in
// kiosk mode on the virtual readers of a private pcscd (tests/browser/kiosk.sh):
//   1. no card: the page asks for one and lists the readers;
//   2. a card in the PIN-pad reader (2): the consent on the page;
//   3. "I agree": the PIN typed on the pad (cnie-sim keys), logged in;
//   4. the card taken out: logged out at once (/v1/events);
//   5. two cards (contact reader 0 without keypad, PIN-pad reader 2): the
//      reader choice; the contact reader is refused
//      with pinpad-required; Cancel on the pad; a login on the pad; the
//      other reader's card taken out does not end the session, the
//      session's card does;
//   6. the page in Arabic (right to left, translated).
// Each state: a screenshot and an axe-core audit (a WCAG A violation fails).
// Environment: KIOSK_URL, ARTIFACTS, CHROMIUM, USER_DATA_DIR, SIM (cnie-sim),
// CARDS (the test cards), IGNORE_TLS.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const env = process.env;
const url = env.KIOSK_URL;
const artifacts = env.ARTIFACTS;
assert.ok(url && artifacts && env.USER_DATA_DIR && env.SIM && env.CARDS, "environment");
const ignoreTls = env.IGNORE_TLS === "1";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage"];
if (ignoreTls) args.push("--ignore-certificate-errors");
const context = await chromium.launchPersistentContext(env.USER_DATA_DIR, {
  executablePath: env.CHROMIUM || "/usr/bin/chromium", headless: true, args,
  ignoreHTTPSErrors: ignoreTls, viewport: { width: 1024, height: 768 }, locale: "en-US",
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
const shot = async (name) => {
  step += 1;
  const path = `${artifacts}/${String(step).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
};
async function audit(name) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag21a", "wcag2aa", "wcag21aa", "wcag22aa"] },
    resultTypes: ["violations"],
  }));
  const isA = (v) => v.tags.some((x) => x === "wcag2a" || x === "wcag21a");
  for (const v of r.violations) {
    console.log(`  axe ${isA(v) ? "A " : "AA"} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }
  writeFileSync(`${artifacts}/axe-${name}.json`, JSON.stringify(r.violations, null, 2));
  const a = r.violations.filter(isA);
  check(`axe: no WCAG A violation in ${name}`, a.length === 0, a.map((v) => v.id).join(",") || "none");
}
const sim = (...a) => execFileSync(env.SIM, a, { encoding: "utf8" });
// PIN-pad entries through stdin: the digits never on a command line.
const keys = (reader, entry) => execFileSync(env.SIM, ["--reader", String(reader), "keys", "-"],
  { input: `${entry}\n`, encoding: "utf8" });
const data = (k) => page.evaluate((key) => document.body.dataset[key] || "", k);
async function waitData(k, want, timeout = 30000) {
  await page.waitForFunction(([key, w]) => document.body.dataset[key] === w, [k, want], { timeout })
    .catch(() => {});
  return data(k);
}
const text = (sel) => page.textContent(sel).then((s) => (s || "").replace(/\s+/g, " ").trim());

// 1. No card.
await page.goto(`${url}/`, { waitUntil: "load" });
await page.waitForFunction(() => document.body.dataset.started === "1", null, { timeout: 30000 });
let st = await waitData("state", "insert");
let screen = await text("#screen");
check("no card: the page asks for the card", st === "insert" && /Insert your national ID card/.test(screen), `${st}: ${screen}`);
check("the readers are listed", /PIN-pad Reader/.test(screen) && /Contact Reader/.test(screen), screen);
await shot("insert-card");
await audit("insert-card");

// 2. A card in the PIN-pad reader.
sim("--reader", "2", "insert", `${env.CARDS}/ec`);
st = await waitData("state", "ready");
screen = await text("#screen");
check("card inserted: the consent is on the page", st === "ready" && /PIN-pad Reader/.test(screen) &&
  /national ID number/.test(screen) && /Do you agree\?/.test(screen), `${st}: ${screen}`);
check("one card: no reader choice", await page.isHidden("#reader-choice"));
await shot("consent");
await audit("consent");

// 3. Consent, then the PIN on the pad.
keys(2, "1234");
await page.click("#agree");
st = await waitData("state", "logged-in", 60000);
screen = await text("#screen");
check("logged in with the PIN typed on the pad", st === "logged-in" && (await data("session")) === "in" &&
  /Welcome, .+\. You are logged in\./.test(screen), `${st}: ${screen} ${await data("lastError")}`);
await shot("logged-in");
await audit("logged-in");

// 4. The card taken out: the session ends.
sim("--reader", "2", "remove");
const session = await waitData("session", "ended");
st = await waitData("state", "insert");
screen = await text("#screen");
check("card removed: logged out", session === "ended" && st === "insert" &&
  /You are logged out: your card was taken out/.test(screen) && !/Welcome/.test(await text("body")), `${session} ${st}: ${screen}`);
await shot("logged-out");
await audit("logged-out");

// 5. Two cards: the choice, the reader without keypad, Cancel, a login.
sim("--reader", "0", "insert", `${env.CARDS}/ec`);
sim("--reader", "2", "insert", `${env.CARDS}/ec`);
await page.waitForFunction(() => document.body.dataset.state === "ready" &&
  document.querySelectorAll("#reader-options input").length === 2, null, { timeout: 30000 }).catch(() => {});
const radios = await page.$$eval("#reader-options input", (l) => l.map((i) => ({ v: i.value, c: i.checked })));
check("two cards: the reader choice, one proposed", radios.length === 2 &&
  radios.filter((r) => r.c).length === 1, JSON.stringify(radios));
await shot("reader-choice");
await audit("reader-choice");

const contact = radios.find((r) => /Contact Reader/.test(r.v));
await page.check(`#reader-options input[value="${contact.v}"]`);
await page.click("#agree");
let err = await waitData("lastError", "pinpad-required", 60000);
let notice = await text("#notice");
check("the reader without keypad is refused: use a reader with a keypad", err === "pinpad-required" &&
  /has no keypad/.test(notice) && (await data("state")) === "ready", `${err}: ${notice}`);
// Now known: the page names the reader without keypad as such, and
// proposes the other one.
await page.waitForFunction(() => /no keypad/.test(document.querySelector("#reader-options").textContent), null,
  { timeout: 10000 }).catch(() => {});
const opts = await text("#reader-options");
check("the reader is now shown as having no keypad", /Contact Reader[^(]*\(no keypad/.test(opts), opts);
const proposed = await page.$eval("#reader-options input:checked", (i) => i.value).catch(() => "");
check("the other reader is proposed now", /PIN-pad/.test(proposed), proposed);
await shot("no-keypad-refused");
await audit("no-keypad-refused");

const pad = radios.find((r) => /PIN-pad/.test(r.v));
await page.check(`#reader-options input[value="${pad.v}"]`);
keys(2, "cancel");
await page.click("#agree");
err = await waitData("lastError", "user-cancelled", 60000);
notice = await text("#notice");
check("Cancel on the keypad: nothing sent, try again when ready", err === "user-cancelled" &&
  /cancelled on the keypad/.test(notice), `${err}: ${notice}`);
await shot("keypad-cancelled");

keys(2, "1234");
await page.click("#agree");
st = await waitData("state", "logged-in", 60000);
check("logged in with the chosen PIN-pad reader", st === "logged-in" && (await text("#notice")) === "", st);
sim("--reader", "0", "remove");
// The other card's removal arrives as an event too: the session stays.
await page.waitForFunction(() => !document.querySelector("#screen").textContent.includes("Contact"), null,
  { timeout: 3000 }).catch(() => {});
await page.waitForTimeout(1500);
check("the other reader's card taken out: still logged in", (await data("state")) === "logged-in" &&
  (await data("session")) === "in");
sim("--reader", "2", "remove");
check("the session's card taken out: logged out", (await waitData("session", "ended")) === "ended" &&
  (await waitData("state", "insert")) === "insert");

// 6. Arabic.
await page.click('#languages button[data-lang="ar"]');
await page.waitForFunction(() => document.documentElement.dir === "rtl", null, { timeout: 10000 }).catch(() => {});
screen = await text("#screen");
const title = await text("h1");
check("Arabic: right to left, translated", (await page.evaluate(() => document.documentElement.dir)) === "rtl" &&
  title !== "Service counter" && /[\u0600-\u06FF]/.test(title + screen), `${title} / ${screen}`);
await shot("arabic");
await audit("arabic");
await page.click('#languages button[data-lang="fr"]');
await page.waitForFunction(() => document.documentElement.lang === "fr-MA", null, { timeout: 10000 }).catch(() => {});
check("French: translated", (await text("h1")) !== "Service counter", await text("h1"));
await shot("french");

await context.close();
const failed = results.filter((r) => !r.ok);
console.log(`${results.length} checks, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
