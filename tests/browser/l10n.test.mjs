// The demo portal (web/demo) in Arabic, French and English: the language
// comes from the browser (navigator.languages, set through the context's
// locale), the page says so in lang and dir, every fixed text and the card
// state come from the catalogue (po/LANG.po as JSON), the layout mirrors in
// Arabic (logical CSS properties), and the visible chooser switches the
// language and is remembered.  No bridge runs: the page shows "software not
// installed" with its numbered help.  Started by tests/browser/l10n.sh
// (PORTAL_URL, ARTIFACTS, CHROMIUM).
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const env = process.env;
assert.ok(env.PORTAL_URL && env.ARTIFACTS, "PORTAL_URL and ARTIFACTS are required");

// Texts written here, not read from the catalogues: a catalogue in the wrong
// language, or not served, fails.
const expected = {
  "ar-MA": {
    lang: "ar-MA", dir: "rtl",
    h1: "سجّل الدخول ببطاقتك الوطنية للتعريف",
    login: "تسجيل الدخول ببطاقتي الوطنية",
    state: "برنامج البطاقة الوطنية غير مثبّت أو غير مشغّل على هذا الحاسوب.",
    help: "ثم اضغط على «إعادة المحاولة».",
    retry: "إعادة المحاولة",
    title: "بوابة تجريبية للبطاقة الوطنية: سجّل الدخول ببطاقتك الوطنية",
  },
  "fr-FR": {
    lang: "fr-MA", dir: "ltr",
    h1: "Connectez-vous avec votre carte nationale d'identité",
    login: "Me connecter avec ma carte d'identité",
    state: "Le logiciel de la carte d'identité n'est pas installé ou n'est pas lancé sur cet ordinateur.",
    help: "Puis appuyez sur « Réessayer ».",
    retry: "Réessayer",
    title: "Portail de démonstration CNIE : connectez-vous avec votre carte d'identité",
  },
  "en-US": {
    lang: "en", dir: "ltr",
    h1: "Log in with your national ID card",
    login: "Log in with my ID card",
    state: "The ID card software is not installed or not running on this computer.",
    help: "Then press “Try again”.",
    retry: "Try again",
    title: "CNIE demo portal: log in with your ID card",
  },
};

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
});
let failures = 0;
const check = (name, ok, detail = "") => {
  if (!ok) failures += 1;
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
};

async function open(page, path = "/") {
  await page.goto(env.PORTAL_URL + path, { waitUntil: "load" });
  await page.waitForFunction(() => document.body.dataset.started === "1", null, { timeout: 30000 });
  if ((await page.evaluate(() => document.body.dataset.state)) === "idle") await page.click("#connect");
  await page.waitForFunction(() => document.body.dataset.state === "bridge-missing", null, { timeout: 30000 });
}

const seen = {};
for (const [locale, want] of Object.entries(expected)) {
  const context = await browser.newContext({ locale, ignoreHTTPSErrors: true, viewport: { width: 900, height: 1000 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
  await open(page);
  const got = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    title: document.title,
    h1: document.querySelector("h1").textContent,
    login: document.getElementById("login-btn").textContent,
    state: document.getElementById("state-title").textContent,
    help: [...document.querySelectorAll("#state-body li")].map((li) => li.textContent),
    retry: document.getElementById("connect").textContent,
    fixed: [...document.querySelectorAll("[data-msg]")].map((e) => e.textContent),
    pressed: document.querySelector("#languages button[aria-pressed=true]")?.dataset.lang,
    // Logical properties: the list's indent is on the start side.
    olStart: (() => {
      const cs = getComputedStyle(document.querySelector("#state-body ol"));
      return { left: cs.paddingLeft, right: cs.paddingRight };
    })(),
    h1Box: (() => {
      const r = document.createRange();
      r.selectNodeContents(document.querySelector("h1"));
      const b = r.getBoundingClientRect();
      const m = document.querySelector("header").getBoundingClientRect();
      return { textLeft: b.left - m.left, textRight: m.right - b.right };
    })(),
  }));
  seen[locale] = got;
  const tag = `[${locale}]`;
  check(`${tag} lang="${want.lang}"`, got.lang === want.lang, got.lang);
  check(`${tag} dir="${want.dir}"`, got.dir === want.dir, got.dir);
  check(`${tag} document title`, got.title === want.title, got.title);
  check(`${tag} heading`, got.h1 === want.h1, got.h1);
  check(`${tag} login button`, got.login === want.login, got.login);
  check(`${tag} card state`, got.state === want.state, got.state);
  check(`${tag} help steps`, got.help.length === 3 && got.help[2] === want.help, got.help.join(" | "));
  check(`${tag} retry button`, got.retry === want.retry, got.retry);
  check(`${tag} chooser marks the language`, got.pressed === locale.slice(0, 2), got.pressed);
  if (want.dir === "rtl") {
    check(`${tag} list indent on the right (start side)`, got.olStart.right !== "0px" && got.olStart.left === "0px",
      JSON.stringify(got.olStart));
    check(`${tag} heading starts on the right`, got.h1Box.textRight < 2 && got.h1Box.textLeft > 20, JSON.stringify(got.h1Box));
  } else {
    check(`${tag} list indent on the left (start side)`, got.olStart.left !== "0px" && got.olStart.right === "0px",
      JSON.stringify(got.olStart));
    check(`${tag} heading starts on the left`, got.h1Box.textLeft < 2, JSON.stringify(got.h1Box));
  }
  // The Arabic glyphs are drawn with a font that has them (not boxes).
  if (locale === "ar-MA") {
    const cdp = await context.newCDPSession(page);
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument");
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: "h1" });
    const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
    check(`${tag} heading drawn with an Arabic font`, fonts.some((f) => /arabic|naskh|kufi/i.test(f.familyName) && f.glyphCount > 10),
      fonts.map((f) => `${f.familyName}:${f.glyphCount}`).join(", "));
  }
  await page.screenshot({ path: `${env.ARTIFACTS}/${locale.slice(0, 2)}.png`, fullPage: true });
  console.log(`screenshot ${env.ARTIFACTS}/${locale.slice(0, 2)}.png`);
  await context.close();
}
// No fixed text left in English in the other languages.
for (const locale of ["ar-MA", "fr-FR"]) {
  const same = seen[locale].fixed.filter((s, i) => s === seen["en-US"].fixed[i]);
  check(`[${locale}] every fixed text translated`, same.length === 0, same.join(" | "));
}

// The chooser: an English browser picks Arabic, the page reloads in Arabic,
// and the choice is kept for the next visit.
{
  const context = await browser.newContext({ locale: "en-US", ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await open(page);
  await Promise.all([page.waitForNavigation(), page.click("#languages button[data-lang=ar]")]);
  await page.waitForFunction(() => document.body.dataset.started === "1");
  check("chooser: Arabic chosen", await page.evaluate(() => document.documentElement.dir === "rtl" &&
    document.querySelector("h1").textContent === "سجّل الدخول ببطاقتك الوطنية للتعريف"));
  await open(page, "/");
  check("chooser: the choice is remembered", await page.evaluate(() => document.documentElement.lang) === "ar-MA");
  await page.screenshot({ path: `${env.ARTIFACTS}/chooser-ar.png`, fullPage: true });
  await context.close();
}
await browser.close();
if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("ok: the portal in Arabic, French and English");
