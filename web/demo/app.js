// CNIE demo portal page: the citizen-facing model an integrator copies.
// Log in and sign go through the Web eID-compatible API (../web-eid.js: the
// same calls as @web-eid/web-eid-library); the card reader state, its live
// updates and the identity read use the bridge's own API (../cnie-bridge.js).
// The portal server (web/demo/server.py) issues nonces and verifies tokens
// and signatures.
//
// Every text the citizen reads comes from `messages` (English, the source
// language) translated through the catalogue of the page's language: the
// project's gettext catalogues (po/ar.po, po/fr.po) turned into JSON at build
// time (po/po2json.py), served as /i18n/LANG.json.  The strings are marked
// N_() so that xgettext extracts them into po/cnie.pot.  The page never shows
// a raw code, field key or developer detail.  The language: ?lang=, else the
// citizen's earlier choice (the chooser at the top), else the browser's
// languages, else English.  Tests read body[data-state] (the card state),
// body[data-login|sign|identity] and body[data-last-error].
import { CnieBridge, CnieBridgeError, cardState, digest, setMessages, toBase64 } from "./cnie-bridge.js";
import * as webeid from "./web-eid.js";

// Marks a string for xgettext (po/CMakeLists.txt): the English source text.
const N_ = (s) => s;

const messages = {
  en: {
    // The page's fixed texts (elements with data-msg / data-msg-alt).
    "page.lang": "en",
    "page.dir": "ltr",
    "page.skip": N_("Skip to the content"),
    "page.doc-title": N_("CNIE demo portal: log in with your ID card"),
    "page.title": N_("Log in with your national ID card"),
    "page.languages": N_("Language"),
    "page.test-notice": N_("Demo portal of the CNIE middleware, for test cards only (NOT A REAL IDENTITY)."),
    "login.title": N_("Log in"),
    "login.intro": N_("Your card proves who you are. You will be asked for your PIN."),
    "login.button": N_("Log in with my ID card"),
    "sign.title": N_("Sign a document"),
    "sign.document": N_("Document to sign"),
    "sign.button": N_("Sign with my ID card"),
    "sign.sample": N_("I, the undersigned, approve this test document. CNIE demo."),
    "identity.title": N_("Share my identity"),
    "identity.intro": N_("With your consent, the site reads your name, date of birth and photo from the card. You will be asked for the 6-digit card access number printed on the card."),
    "identity.button": N_("Share my identity"),
    "identity.photo": N_("Photo of the card holder"),
    // Card reader and card states (the panel at the top).
    "state.checking": N_("Checking for your card reader…"),
    "state.idle": N_("Press “Check my card reader” to begin."),
    "state.bridge-missing": N_("The ID card software is not installed or not running on this computer."),
    "state.bridge-missing.help": [
      N_("Install the CNIE card software for your computer{installLink}."),
      N_("If it is already installed, restart your computer: the software starts by itself."),
      N_("Then press “Try again”."),
    ],
    "state.bridge-missing.link": N_("download page"),
    "state.permission-denied": N_("Your browser does not let this site use your ID card."),
    "state.permission-denied.help": [
      N_("Click the padlock icon beside the address bar and allow this site to access devices on your computer (“local network”)."),
      N_("Then press “Try again”."),
    ],
    "state.insecure": N_("This page must be opened with an address starting with https://."),
    "state.no-service": N_("The smart card service of this computer is not running."),
    "state.no-service.help": [N_("Restart your computer, then press “Try again”."),
      N_("If this message stays, contact technical support.")],
    "state.no-reader": N_("No card reader is connected."),
    "state.no-reader.help": [N_("Connect your card reader to the computer."),
      N_("This page notices it by itself when the reader is connected.")],
    "state.no-card": N_("Insert your ID card in the card reader."),
    "state.no-card.help": [N_("Insert the card chip first, chip facing up."), N_("This page notices the card by itself.")],
    "state.ready": N_("Your ID card is ready."),
    "state.ready-unchecked": N_("A card is in the reader. It is checked when you use it."),
    "state.ready.reader": N_("Card reader: {reader}."),
    "state.ready.pinpad": N_("This reader has a keypad: you will type your PIN on the reader."),
    "state.not-recognised": N_("The card in the reader is not a Moroccan national ID card (CNIE)."),
    "state.not-recognised.help": [N_("Take the card out and insert your CNIE, chip first and facing up.")],
    "state.choose": N_("Several cards are inserted."),
    "state.choose.legend": N_("Which card do you want to use?"),
    "state.choose.help": [N_("Choose below the card you want to use.")],
    "reader.pinpad": N_("(reader with keypad)"),
    "reader.unchecked": N_("(card not checked yet)"),
    "reader.cnie": N_("(national ID card)"),
    "reader.not-recognised": N_("(not a national ID card)"),
    "button.check": N_("Check my card reader"),
    "button.retry": N_("Try again"),
    // Steps of an operation (the progress line, reset after each step).
    "step.nonce": N_("Preparing your login…"),
    "step.pin": N_("Enter your PIN in the window that has opened."),
    "step.pin-pad": N_("Type your PIN on the card reader's keypad."),
    "step.verify": N_("The site is checking your login…"),
    "step.certificate": N_("Reading the signing certificate from your card…"),
    "step.sign-pin": N_("Check the document summary and enter your signature PIN in the window that has opened."),
    "step.sign-pin-pad": N_("Check the document summary in the window that has opened, then type your signature PIN on the reader's keypad."),
    "step.verify-signature": N_("The site is checking your signature…"),
    "step.consent": N_("Allow sharing your identity in the window that has opened, then enter the 6-digit card access number printed on the front of your card."),
    // Results.
    "login.ok": N_("You are logged in as {name}."),
    "login.refused": N_("The site could not confirm your login. Please try again."),
    "sign.ok": N_("Your signature was checked by the site: the document is signed."),
    "sign.refused": N_("The site could not confirm your signature. Please try again."),
    "identity.ok": N_("Your identity has been shared with this site."),
    "identity.jp2": N_("Your identity has been shared. Your photo is stored in a format this browser cannot show."),
    // Failures: what happened, then what to do next.
    "error.title": N_("That did not work."),
    "error.title.login": N_("Logging in did not work."),
    "error.title.sign": N_("Signing did not work."),
    "error.title.identity": N_("Sharing your identity did not work."),
    "error.see-below": N_("Follow the steps just below, then try again."),
    "error.user-cancelled": N_("You cancelled. Nothing was sent. Press the button again when you are ready."),
    "error.pin-incorrect": N_("The PIN was wrong. {tries}"),
    "error.pin-incorrect.tries": N_("Tries left before the PIN is blocked: {n}."),
    "error.pin-incorrect.last": N_("Careful: one more wrong PIN blocks it."),
    "error.pin-incorrect.unknown": N_("Check your PIN and try again."),
    "error.pin-blocked": N_("Your PIN is blocked after too many wrong tries. Unblock it with the PUK code from your PIN letter, or ask at a service counter."),
    "error.can-incorrect": N_("The card access number was wrong. It is the 6-digit number printed on the front of your card. Please try again."),
    "error.timeout": N_("The window closed because there was no answer in time. Press the button again."),
    "error.busy": N_("Your card is busy with another request. Wait a moment, then try again."),
    "error.no-card": N_("No ID card is inserted. Insert your card, then try again."),
    "error.no-reader": N_("No card reader is connected. Connect it, then try again."),
    "error.no-reader.short": N_("No card reader is connected."),
    "error.no-service.short": N_("The smart card service of this computer is not running."),
    "error.bridge-unreachable.short": N_("The ID card software does not answer."),
    "error.permission-denied.short": N_("Your browser does not let this site use your ID card."),
    "error.multiple-cards": N_("Several cards are inserted. Choose the card to use just below, then try again."),
    "error.card-not-recognised": N_("The card is not a Moroccan national ID card (CNIE). Insert your CNIE, then try again."),
    "error.card-error": N_("The card could not be read. Take it out, insert it again, then try again."),
    "error.no-service": N_("The smart card service of this computer is not running. Restart your computer, then try again."),
    "error.bridge-unreachable": N_("The ID card software does not answer. Follow the steps just below, then try again."),
    "error.permission-denied": N_("Your browser does not let this site use your ID card. Follow the steps just below."),
    "error.insecure-context": N_("This page must be opened with an address starting with https://."),
    "error.portal": N_("The site is not reachable at the moment. Please try again later."),
    "error.other": N_("Something went wrong. Please try again. If it keeps happening, contact support and give this code: {code}."),
    // Identity fields (never the raw keys).
    "field.fullName": N_("Full name"),
    "field.surname": N_("Surname"),
    "field.givenNames": N_("Given names"),
    "field.otherNames": N_("Other names"),
    "field.birthDate": N_("Date of birth"),
    "field.placeOfBirth": N_("Place of birth"),
    "field.sex": N_("Sex"),
    "field.nationality": N_("Nationality"),
    "field.documentNumber": N_("Card number"),
    "field.expiryDate": N_("Valid until"),
    "field.personalNumber": N_("Personal number"),
    "sex.F": N_("Female"),
    "sex.M": N_("Male"),
    "nationality.MAR": N_("Moroccan"),
  },
};
// The languages of the page: its catalogue, `lang` and `dir`, and the
// chooser's label (each in its own language).
const LANGUAGES = {
  ar: { tag: "ar-MA", dir: "rtl", name: "العربية" },
  fr: { tag: "fr-MA", dir: "ltr", name: "Français" },
  en: { tag: "en", dir: "ltr", name: "English" },
};

function pickLanguage() {
  const wanted = [new URLSearchParams(location.search).get("lang")];
  try {
    wanted.push(localStorage.getItem("cnie-demo-lang"));
  } catch {
    // storage disabled: the browser's languages decide
  }
  wanted.push(...(navigator.languages || [navigator.language]));
  for (const w of wanted) {
    const base = w ? String(w).toLowerCase().split("-")[0] : "";
    if (Object.hasOwn(LANGUAGES, base)) return base;
  }
  return "en";
}

const lang = pickLanguage();
const locale = LANGUAGES[lang].tag;
// msgid (English) -> translation; empty for English or when the catalogue
// cannot be loaded (the page then stays readable, in English).
let catalogue = {};
if (lang !== "en") {
  try {
    const res = await fetch(`i18n/${lang}.json`, { cache: "no-cache" });
    if (res.ok) catalogue = (await res.json()).messages || {};
  } catch {
    catalogue = {};
  }
}

// The JS client's own messages in the same language.
setMessages(catalogue);

function tr(s) {
  const x = catalogue[s];
  return typeof x === "string" && x !== "" ? x : s;
}

function t(id, params = {}) {
  if (id === "page.lang") return locale;
  if (id === "page.dir") return LANGUAGES[lang].dir;
  const s = messages.en[id];
  if (s === undefined) return id;
  return Array.isArray(s) ? s.map((x) => fill(tr(x), params)) : fill(tr(s), params);
}

function known(id) {
  return messages.en[id] !== undefined;
}
function fill(s, params) {
  return s.replace(/\{(\w+)\}/g, (_, k) => (params[k] !== undefined ? String(params[k]) : ""));
}

const $ = (id) => document.getElementById(id);
let cfg = null;
let bridge = null;
let status = null;
let stopEvents = null;
let chosenReader = "";
let chosenByCitizen = false; // false: the only card, picked by the page
// Whether a false `recognised` may be believed: the bridge sends null for
// unchecked cards (three-state), or an operation proved a card foreign.
let threeState = false;
const foreignCards = new Set();

// ---- the top of the page -------------------------------------------------

// A failure: a title naming the task, then what happened and what to do.
function showNotice(text, task) {
  const n = $("notice");
  n.replaceChildren();
  if (!text) return;
  const title = document.createElement("p");
  title.className = "state-title";
  title.textContent = t(task ? `error.title.${task}` : "error.title");
  const p = document.createElement("p");
  p.textContent = text;
  n.append(title, p);
}

function showProgress(id) {
  $("progress").textContent = id ? t(id) : "";
}

function list(items) {
  const ol = document.createElement("ol");
  for (const it of items) {
    const li = document.createElement("li");
    if (it instanceof Node) li.append(it); else li.textContent = it;
    ol.append(li);
  }
  return ol;
}

// state: the body's data-state; tone: ok|wait|warn|bad; help: lines (a list).
function showState(state, title, { tone = "warn", lines = [], help = [] } = {}) {
  document.body.dataset.state = state;
  const panel = $("card-state");
  panel.dataset.tone = tone;
  $("state-title").textContent = title;
  const body = $("state-body");
  body.replaceChildren();
  for (const l of lines) {
    const p = document.createElement("p");
    p.textContent = l;
    body.append(p);
  }
  if (help.length) body.append(help.length === 1 ? Object.assign(document.createElement("p"), { textContent: help[0] }) : list(help));
  // "Try again" only where the page cannot see the change by itself: card
  // and reader changes arrive through the bridge's events.
  const live = stopEvents !== null && ["no-card", "no-reader", "not-recognised"].includes(state);
  $("connect").textContent = t(state === "idle" ? "button.check" : "button.retry");
  $("connect").hidden = live || ["ready", "choose", "checking"].includes(state);
}

function bridgeMissingHelp() {
  const lines = t("state.bridge-missing.help", { installLink: "" });
  if (cfg && cfg.installUrl) {
    // The first step links to the integrator's download page.
    const a = document.createElement("a");
    a.href = cfg.installUrl;
    a.textContent = t("state.bridge-missing.link");
    const first = document.createElement("span");
    const [before, after] = tr(messages.en["state.bridge-missing.help"][0]).split("{installLink}");
    first.append(before, " (", a, ")", after);
    lines[0] = first;
  }
  return lines;
}

// The panel for a failure to reach the bridge (no status at all).
function showUnreachable(e) {
  const code = e instanceof CnieBridgeError ? e.code : "bridge-unreachable";
  if (code === "permission-denied") {
    showState("permission-denied", t("state.permission-denied"), { tone: "bad", help: t("state.permission-denied.help") });
  } else if (code === "insecure-context") {
    showState("insecure", t("state.insecure"), { tone: "bad" });
  } else {
    showState("bridge-missing", t("state.bridge-missing"), { tone: "bad", help: bridgeMissingHelp() });
  }
}

function readerLabel(r) {
  const st = cardState(r, { falseMeansChecked: threeState || foreignCards.has(r.name) });
  const what = st === "cnie" ? t("reader.cnie") : st === "not-recognised" ? t("reader.not-recognised")
    : t("reader.unchecked");
  return `${r.name} ${what}${r.pinpad ? ` ${t("reader.pinpad")}` : ""}`;
}

function renderStatus(s) {
  status = s;
  if (s.readers.some((r) => r.card && r.recognised === null)) threeState = true;
  if (s.service) {
    showState("no-service", t("state.no-service"), { tone: "bad", help: t("state.no-service.help") });
    $("reader-choice").hidden = true;
    return;
  }
  if (!s.readers.length) {
    showState("no-reader", t("state.no-reader"), { help: t("state.no-reader.help") });
    $("reader-choice").hidden = true;
    return;
  }
  const withCard = s.readers.filter((r) => r.card);
  if (!withCard.length) {
    showState("no-card", t("state.no-card"), { help: t("state.no-card.help") });
    $("reader-choice").hidden = true;
    return;
  }
  // A card the page picked because it was alone is not a choice: a second
  // card makes the page ask.
  if (!withCard.some((r) => r.name === chosenReader) || (withCard.length > 1 && !chosenByCitizen)) {
    chosenReader = withCard.length === 1 ? withCard[0].name : "";
    chosenByCitizen = false;
  }
  renderChoice(withCard);
  if (!chosenReader) {
    showState("choose", t("state.choose"), { help: t("state.choose.help") });
    return;
  }
  const r = withCard.find((x) => x.name === chosenReader);
  const st = cardState(r, { falseMeansChecked: threeState || foreignCards.has(r.name) });
  if (st === "not-recognised") {
    showState("not-recognised", t("state.not-recognised"), { tone: "bad", help: t("state.not-recognised.help") });
    return;
  }
  const lines = [t("state.ready.reader", { reader: r.name })];
  if (r.pinpad) lines.push(t("state.ready.pinpad"));
  showState("ready", t(st === "cnie" ? "state.ready" : "state.ready-unchecked"), { tone: "ok", lines });
  document.body.dataset.cardChecked = st === "cnie" ? "1" : "0";
}

// The reader choice: radio buttons, shown only when several cards are in.
function renderChoice(withCard) {
  const fs = $("reader-choice");
  if (withCard.length < 2) {
    fs.hidden = true;
    return;
  }
  const box = $("reader-options");
  const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement.value : null;
  box.replaceChildren();
  withCard.forEach((r, i) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "reader";
    input.value = r.name;
    input.id = `reader-${i}`;
    input.checked = r.name === chosenReader;
    input.addEventListener("change", () => {
      chosenReader = input.value;
      chosenByCitizen = true;
      showNotice("");
      renderStatus(status);
    });
    label.append(input, readerLabel(r));
    box.append(label);
  });
  fs.hidden = false;
  if (focused) box.querySelector(`input[value="${CSS.escape(focused)}"]`)?.focus();
}

function selectedReader() {
  return status ? status.readers.find((r) => r.name === chosenReader) : undefined;
}

async function refresh() {
  try {
    renderStatus(await bridge.status());
  } catch (e) {
    showUnreachable(e);
  }
}

// Reaches the bridge (once), follows its reader and card events.
async function connect() {
  if (!cfg) {
    const res = await fetch("/config.json", { cache: "no-store" });
    if (!res.ok) throw new Error("portal");
    cfg = await res.json();
    bridge = new CnieBridge({ url: cfg.bridge });
    webeid.configure({ url: cfg.bridge });
  }
  showState("checking", t("state.checking"), { tone: "wait" });
  try {
    renderStatus(await bridge.detect());
  } catch (e) {
    showUnreachable(e);
    return false;
  }
  if (!stopEvents) {
    stopEvents = bridge.events((ev) => {
      if (ev.type === "card") foreignCards.delete(ev.reader);
      // A card taken out or put in makes an old failure message stale.
      if (ev.type === "card" && document.body.dataset.busy !== "1") showNotice("");
      refresh();
    }, () => {
      // The stream broke: the bridge stopped.  Say so, and listen again
      // once the citizen retries.
      if (stopEvents) stopEvents();
      stopEvents = null;
      refresh();
    });
  }
  return true;
}

// ---- failures ------------------------------------------------------------

// The bridge's code of an error from either API (web-eid.js errors carry it
// in cnieCode).
function codeOf(e) {
  if (e instanceof CnieBridgeError) return e.code;
  if (e && e.cnieCode) return e.cnieCode;
  if (e && e.code === webeid.ErrorCode.ERR_WEBEID_USER_CANCELLED) return "user-cancelled";
  if (e && e.message === "portal") return "portal";
  return (e && e.code) || "error";
}

// Failures the card-state panel just below already explains step by step:
// the notice names the failure and points there instead of repeating it.
const SHOWN_BELOW = new Set(["no-reader", "no-service", "bridge-unreachable", "permission-denied"]);

function explain(e) {
  const code = codeOf(e);
  if (SHOWN_BELOW.has(code) && document.body.dataset.state !== "ready") {
    return `${t(`error.${code}.short`)} ${t("error.see-below")}`;
  }
  if (code === "pin-incorrect") {
    const n = e.triesLeft;
    const tries = n === undefined ? t("error.pin-incorrect.unknown")
      : n === 1 ? t("error.pin-incorrect.last") : t("error.pin-incorrect.tries", { n });
    return t("error.pin-incorrect", { tries });
  }
  return known(`error.${code}`) ? t(`error.${code}`) : t("error.other", { code });
}

// Each button runs one task; a failure is shown at the top with what to do
// next, and the step line is cleared.
function task(button, result, name, fn) {
  $(button).addEventListener("click", async () => {
    showNotice("");
    $(result).textContent = "";
    delete $(result).dataset.tone;
    delete document.body.dataset.lastError;
    delete document.body.dataset[name];
    $(button).disabled = true;
    document.body.dataset.busy = "1";
    try {
      if (!bridge || !stopEvents) {
        if (!(await connect())) {
          throw new CnieBridgeError(document.body.dataset.state === "permission-denied" ? "permission-denied"
            : "bridge-unreachable", "");
        }
      }
      const r = selectedReader();
      if (status && status.readers.filter((x) => x.card).length > 1 && !r) {
        throw new CnieBridgeError("multiple-cards", "");
      }
      await fn(r);
    } catch (e) {
      const code = codeOf(e);
      if (code === "card-not-recognised" && chosenReader) foreignCards.add(chosenReader);
      showNotice(explain(e), name);
      document.body.dataset.lastError = code;
      document.body.dataset[name] = "error";
    } finally {
      showProgress("");
      $(button).disabled = false;
      delete document.body.dataset.busy;
      if (bridge) refresh();
    }
  });
}

function showResult(id, text, ok) {
  $(id).textContent = text;
  $(id).dataset.tone = ok ? "ok" : "bad";
}

async function api(path, body) {
  let res;
  try {
    res = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Error("portal");
  }
  if (res.status >= 500) throw new Error("portal");
  return res.json();
}

// Names as the card writes them (ICAO 9303: "SURNAME<<GIVEN<NAMES") read as
// "SURNAME, GIVEN NAMES".
function readable(v) {
  return String(v).replace(/<<+/, ", ").replace(/<+/g, " ").trim();
}

// ---- log in and sign: the Web eID calls -------------------------------------

task("login-btn", "login-result", "login", async (reader) => {
  showProgress("step.nonce");
  const { nonce } = await api("/api/nonce", {});
  showProgress(reader && reader.pinpad ? "step.pin-pad" : "step.pin");
  const token = await webeid.authenticate(nonce, { lang, reader: reader?.name });
  showProgress("step.verify");
  const res = await api("/api/login", { nonce, token });
  window.__lastLogin = { nonce, token };
  if (res.valid) {
    // The certificate's common name ends with its purpose: "NAME (Authentication)".
    const name = readable(res.commonName || res.subject).replace(/\s*\([^)]*\)$/, "");
    showResult("login-result", t("login.ok", { name }), true);
    document.body.dataset.login = "ok";
  } else {
    showResult("login-result", t("login.refused"), false);
    document.body.dataset.login = "refused";
  }
});

task("sign-btn", "sign-result", "sign", async (reader) => {
  const text = $("document").value;
  showProgress("step.certificate");
  const { certificate } = await webeid.getSigningCertificate({ lang, reader: reader?.name });
  showProgress(reader && reader.pinpad ? "step.sign-pin-pad" : "step.sign-pin");
  const hash = toBase64(await digest(text, "SHA-256"));
  const { signature, signatureAlgorithm } = await webeid.sign(certificate, hash, "SHA-256", { lang, reader: reader?.name });
  showProgress("step.verify-signature");
  const res = await api("/api/verify-signature", { document: text, certificate, signature, signatureAlgorithm });
  if (res.valid) {
    showResult("sign-result", t("sign.ok"), true);
    document.body.dataset.sign = "ok";
  } else {
    showResult("sign-result", t("sign.refused"), false);
    document.body.dataset.sign = "refused";
  }
});

// ---- identity: the bridge's own API ---------------------------------------

// YYMMDD (MRZ) or YYYYMMDD (DG11) to a date; MRZ birth years in the future
// belong to the previous century, expiry years to this one.
function parseDate(s, kind) {
  let y, m, d;
  if (/^\d{8}$/.test(s)) [y, m, d] = [s.slice(0, 4), s.slice(4, 6), s.slice(6, 8)].map(Number);
  else if (/^\d{6}$/.test(s)) {
    [y, m, d] = [s.slice(0, 2), s.slice(2, 4), s.slice(4, 6)].map(Number);
    const now = new Date().getFullYear() % 100;
    y += kind === "birth" && y > now ? 1900 : 2000;
  } else return null;
  if (m < 1 || m > 12 || d < 1 || d > 31) return null;
  return new Date(Date.UTC(y, m - 1, d));
}
function formatDate(s, kind) {
  const dt = parseDate(String(s), kind);
  return dt ? new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).format(dt) : null;
}

// The rows a citizen reads, in order; empty values are left out.
function identityRows(id) {
  const m = id.mrz || {};
  const n = id.names || {};
  const rows = [
    ["fullName", n.fullName && readable(n.fullName)],
    ["surname", !n.fullName && m.surname && readable(m.surname)],
    ["givenNames", !n.fullName && m.givenNames && readable(m.givenNames)],
    ["otherNames", Array.isArray(n.otherNames) && n.otherNames.map(readable).filter(Boolean).join("; ")],
    ["birthDate", n.fullDateOfBirth ? formatDate(n.fullDateOfBirth, "birth") : m.birthDate && formatDate(m.birthDate, "birth")],
    ["placeOfBirth", n.placeOfBirth && String(n.placeOfBirth).split(/<+/).filter(Boolean).join(", ")],
    ["sex", known(`sex.${m.sex}`) && t(`sex.${m.sex}`)],
    ["nationality", m.nationality && (known(`nationality.${m.nationality}`) ? t(`nationality.${m.nationality}`) : m.nationality)],
    ["documentNumber", m.documentNumber && readable(m.documentNumber)],
    ["expiryDate", m.expiryDate && formatDate(m.expiryDate, "expiry")],
    ["personalNumber", n.personalNumber && readable(n.personalNumber)],
  ];
  return rows.filter(([, v]) => typeof v === "string" && v.trim() !== "");
}

task("identity-btn", "identity-result", "identity", async (reader) => {
  showProgress("step.consent");
  const id = await bridge.identity(["mrz", "names", "photo"], undefined, { reader: reader?.name });
  const dl = $("identity");
  dl.replaceChildren();
  for (const [k, v] of identityRows(id)) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = t(`field.${k}`);
    dd.textContent = v;
    dd.dir = "auto"; // Arabic names read right to left
    dl.append(dt, dd);
  }
  dl.hidden = !dl.children.length;
  const img = $("photo");
  img.hidden = true;
  if (id.photo && id.photo.format === "jpeg") {
    img.src = `data:image/jpeg;base64,${id.photo.data}`;
    await img.decode();
    img.hidden = false;
    img.dataset.loaded = "1";
    showResult("identity-result", t("identity.ok"), true);
  } else if (id.photo && id.photo.format === "jp2") {
    showResult("identity-result", t("identity.jp2"), true);
  } else {
    showResult("identity-result", t("identity.ok"), true);
  }
  document.body.dataset.identity = "ok";
});

// ---- start -----------------------------------------------------------------

// The fixed texts from the table (the HTML carries the English ones for a
// browser without JavaScript).
document.documentElement.lang = t("page.lang");
document.documentElement.dir = t("page.dir");
document.title = t("page.doc-title");
for (const el of document.querySelectorAll("[data-msg]")) el.textContent = t(el.dataset.msg);
for (const el of document.querySelectorAll("[data-msg-alt]")) el.alt = t(el.dataset.msgAlt);
document.body.dataset.lang = lang;
// The sample document in the page's language (the citizen may change it).
if ($("document").value === messages.en["sign.sample"]) $("document").value = t("sign.sample");

// The language chooser: each language named in itself; a choice is kept
// for the next visit and reloads the page in that language.
{
  const nav = $("languages");
  nav.setAttribute("aria-label", t("page.languages"));
  for (const [code, l] of Object.entries(LANGUAGES)) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.lang = l.tag;
    b.dir = l.dir;
    b.textContent = l.name;
    b.dataset.lang = code;
    if (code === lang) b.setAttribute("aria-pressed", "true");
    else b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", () => {
      try {
        localStorage.setItem("cnie-demo-lang", code);
      } catch {
        // not kept: the URL carries the choice
      }
      const u = new URL(location.href);
      u.searchParams.set("lang", code);
      location.assign(u);
    });
    nav.append(b);
  }
}

$("connect").addEventListener("click", async () => {
  showNotice("");
  try {
    await connect();
  } catch (e) {
    showNotice(explain(e));
  }
});

// Check at once when the browser will not ask the citizen anything (no
// Local Network Access prompt); otherwise wait for the button, so the
// browser's question follows the citizen's own click.
showState("idle", t("state.idle"), { tone: "wait" });
(async () => {
  const perm = await CnieBridge.permissionState();
  if (perm === "granted" || perm === "unsupported") {
    try {
      await connect();
    } catch (e) {
      showNotice(explain(e));
    }
  }
  document.body.dataset.started = "1";
})();
