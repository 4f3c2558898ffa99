// CNIE kiosk page (docs/kiosk.md): a service counter's screen, with cnied
// in kiosk mode behind it.  cnied opens no dialog there, so this page is
// where the citizen consents ("I agree, log me in"), and the PIN is typed
// on the reader's keypad only.  The session ends when the card leaves the
// reader it logged in with (the bridge's /v1/events), when that event
// stream breaks (a removal could no longer be seen), or after a few minutes
// without a touch.  Several readers: the only card is used; with several
// cards the citizen chooses (the first reader with a keypad is proposed).
//
// Texts: English source strings marked N_() (po/cnie.pot), translated
// through /i18n/LANG.json (po/LANG.po, po/po2json.py), as web/demo does.
// Tests read body[data-state] (starting, unavailable, insert, ready, pin,
// verifying, logged-in), body[data-session] (in, ended) and
// body[data-last-error] (the bridge's error code).
import { CnieBridge, CnieBridgeError, setMessages } from "./cnie-bridge.js";
import * as webeid from "./web-eid.js";

const N_ = (s) => s;
const IDLE_LOGOUT_MS = 3 * 60 * 1000;

const messages = {
  "kiosk.doc-title": N_("Service counter: log in with your ID card"),
  "kiosk.title": N_("Service counter"),
  "kiosk.languages": N_("Language"),
  "kiosk.privacy": N_("Your PIN is typed only on the card reader's keypad: this screen never sees it."),
  "kiosk.choose": N_("Which card do you want to use?"),
  "kiosk.connecting": N_("Connecting to the card reader…"),
  "kiosk.unavailable": N_("The card service of this counter is not available."),
  "kiosk.unavailable.help": N_("Please ask a member of staff. This screen tries again by itself."),
  "kiosk.no-reader": N_("No card reader is connected to this counter. Please ask a member of staff."),
  "kiosk.insert": N_("Insert your national ID card in a card reader with a keypad."),
  "kiosk.readers": N_("Card readers at this counter:"),
  "kiosk.reader.pinpad": N_("{reader} (with keypad)"),
  "kiosk.reader.no-pinpad": N_("{reader} (no keypad: cannot be used to log in)"),
  "kiosk.logged-out": N_("You are logged out: your card was taken out of the reader."),
  "kiosk.logged-out.idle": N_("You were logged out because nothing happened for a few minutes."),
  "kiosk.logged-out.lost": N_("You were logged out because the card reader could no longer be watched."),
  "kiosk.logged-out.button": N_("You are logged out."),
  "kiosk.ready": N_("Your card is in the reader: {reader}."),
  "kiosk.consent": N_("To log you in, this counter reads the certificate on your card: your name and your national ID number. You then type your PIN on the reader's keypad."),
  "kiosk.consent.question": N_("Do you agree?"),
  "kiosk.agree": N_("I agree, log me in"),
  "kiosk.pin": N_("Type your PIN on the keypad of the card reader, then press OK on the reader."),
  "kiosk.pin.reader": N_("Card reader: {reader}."),
  "kiosk.verifying": N_("Checking your card…"),
  "kiosk.welcome": N_("Welcome, {name}. You are logged in."),
  "kiosk.welcome.end": N_("To log out, take your card out of the reader."),
  "kiosk.logout": N_("Log out"),
  "error.title": N_("That did not work"),
  "error.pinpad-required": N_("This card reader has no keypad. Put your card in a reader with a keypad, then try again."),
  "error.pace-reader-required": N_("This card needs a card reader that this counter does not have. Please ask a member of staff."),
  "error.pin-incorrect": N_("Wrong PIN. {tries}"),
  "error.pin-incorrect.tries": N_("You have {n} tries left."),
  "error.pin-incorrect.last": N_("You have one try left: after another wrong PIN, your PIN is blocked."),
  "error.pin-incorrect.unknown": N_("Check your PIN and try again."),
  "error.pin-blocked": N_("Your PIN is blocked after too many wrong tries. Please ask a member of staff."),
  "error.user-cancelled": N_("You cancelled on the keypad. Nothing was sent. Press “I agree, log me in” when you are ready."),
  "error.timeout": N_("No PIN was typed in time. Press “I agree, log me in” to try again."),
  "error.no-card": N_("The card was taken out of the reader. Insert it again."),
  "error.card-not-recognised": N_("This card is not a Moroccan national ID card (CNIE)."),
  "error.busy": N_("The card reader is busy. Wait a moment, then try again."),
  "error.refused": N_("Your card could not be verified. Please ask a member of staff."),
  "error.other": N_("Something went wrong. Please ask a member of staff and give this code: {code}."),
};

const LANGUAGES = {
  ar: { tag: "ar-MA", dir: "rtl", name: "العربية" },
  fr: { tag: "fr-MA", dir: "ltr", name: "Français" },
  en: { tag: "en", dir: "ltr", name: "English" },
};

const $ = (id) => document.getElementById(id);
let lang = "en";
let catalogue = {};
let cfg = null;
let bridge = null;
let stopEvents = null;
let status = null;
let chosenReader = "";
let session = null; // {reader, name} while logged in
// Why the last session ended (removed, idle, lost, button): said on the
// screen until a card is put in or the next login starts.
let ended = null;
let view = { state: "starting" };
let busy = false;
let idleTimer = null;

// ---- texts -----------------------------------------------------------------

function tr(s) {
  const x = catalogue[s];
  return typeof x === "string" && x !== "" ? x : s;
}

function t(id, params = {}) {
  const s = messages[id];
  if (s === undefined) return id;
  return tr(s).replace(/\{(\w+)\}/g, (_, k) => (params[k] !== undefined ? String(params[k]) : ""));
}

async function setLanguage(code) {
  lang = Object.hasOwn(LANGUAGES, code) ? code : "en";
  catalogue = {};
  if (lang !== "en") {
    try {
      const res = await fetch(`i18n/${lang}.json`, { cache: "no-cache" });
      if (res.ok) catalogue = (await res.json()).messages || {};
    } catch {
      catalogue = {};
    }
  }
  setMessages(catalogue);
  document.documentElement.lang = LANGUAGES[lang].tag;
  document.documentElement.dir = LANGUAGES[lang].dir;
  document.body.dataset.lang = lang;
  document.title = t("kiosk.doc-title");
  for (const el of document.querySelectorAll("[data-msg]")) el.textContent = t(el.dataset.msg);
  $("languages").setAttribute("aria-label", t("kiosk.languages"));
  for (const b of $("languages").children) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  render();
  if (lastError) showError(lastError.e);
}

// ---- the screen ----------------------------------------------------------------

// A reader's keypad is known once a card was used in it ("pinpad" is
// learnt with "recognised", docs/bridge-api.md "status"): until then the
// page names the reader only.
function readerLabel(r) {
  if (!r.card || r.recognised === null) return withReader(null, r.name);
  return withReader(r.pinpad ? "kiosk.reader.pinpad" : "kiosk.reader.no-pinpad", r.name);
}

// The text of id with the reader's name isolated in a <bdi> (a Latin name
// ending in digits stays in order inside Arabic text); id null: the name.
function withReader(id, name) {
  const f = document.createDocumentFragment();
  const bdi = document.createElement("bdi");
  bdi.textContent = name;
  if (!id) {
    f.append(bdi);
    return f;
  }
  const [before, after = ""] = t(id, { reader: "\u0000" }).split("\u0000");
  f.append(before, bdi, after);
  return f;
}

function para(text) {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}

function button(id, label, onClick, secondary = false) {
  const b = document.createElement("button");
  b.type = "button";
  b.id = id;
  b.textContent = label;
  if (secondary) b.className = "secondary";
  b.addEventListener("click", onClick);
  return b;
}

// Draws `view` (its state and what it carries) in the page's language.
function render() {
  const { state } = view;
  document.body.dataset.state = state;
  const screen = $("screen");
  const body = $("screen-body");
  const actions = $("actions");
  body.replaceChildren();
  actions.replaceChildren();
  let title = "";
  let tone = "wait";
  if (state === "starting") {
    title = t("kiosk.connecting");
  } else if (state === "unavailable") {
    title = t("kiosk.unavailable");
    tone = "warn";
    body.append(para(view.noReader ? t("kiosk.no-reader") : t("kiosk.unavailable.help")));
  } else if (state === "insert") {
    title = t("kiosk.insert");
    if (ended) {
      body.append(para(endedText()));
      tone = "ok";
    }
    if (status && status.readers.length) {
      body.append(para(t("kiosk.readers")));
      const ul = document.createElement("ul");
      ul.className = "readers";
      for (const r of status.readers) {
        const li = document.createElement("li");
        li.append(readerLabel(r));
        ul.append(li);
      }
      body.append(ul);
    }
  } else if (state === "ready") {
    title = withReader("kiosk.ready", chosenReader);
    tone = "ok";
    if (ended) body.append(para(endedText()));
    body.append(para(t("kiosk.consent")), para(t("kiosk.consent.question")));
    actions.append(button("agree", t("kiosk.agree"), login));
  } else if (state === "pin") {
    title = t("kiosk.pin");
    const p = document.createElement("p");
    p.append(withReader("kiosk.pin.reader", view.reader));
    body.append(p);
  } else if (state === "verifying") {
    title = t("kiosk.verifying");
  } else if (state === "logged-in") {
    title = t("kiosk.welcome", { name: session.name });
    tone = "ok";
    body.append(para(t("kiosk.welcome.end")));
    actions.append(button("logout", t("kiosk.logout"), () => logout("button"), true));
  }
  screen.dataset.tone = tone;
  $("screen-title").replaceChildren(title);
  renderChoice();
}

// The reader choice: shown only when several readers hold a card.
function renderChoice() {
  const fs = $("reader-choice");
  const cards = status ? status.readers.filter((r) => r.card) : [];
  if (view.state !== "ready" || cards.length < 2) {
    fs.hidden = true;
    return;
  }
  const box = $("reader-options");
  box.replaceChildren();
  cards.forEach((r, i) => {
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "reader";
    input.id = `reader-${i}`;
    input.value = r.name;
    input.checked = r.name === chosenReader;
    input.addEventListener("change", () => {
      chosenReader = r.name;
      render();
    });
    const label = document.createElement("label");
    label.htmlFor = input.id;
    label.append(input, readerLabel(r));
    box.append(label);
  });
  fs.hidden = false;
}

function endedText() {
  return t(ended === "idle" ? "kiosk.logged-out.idle" : ended === "lost" ? "kiosk.logged-out.lost"
    : ended === "button" ? "kiosk.logged-out.button" : "kiosk.logged-out");
}

function show(state, extra = {}) {
  view = { state, ...extra };
  render();
}

// ---- failures --------------------------------------------------------------------

let lastError = null;

function codeOf(e) {
  if (e instanceof CnieBridgeError) return e.code;
  if (e && e.cnieCode) return e.cnieCode;
  if (e && e.code === webeid.ErrorCode.ERR_WEBEID_USER_CANCELLED) return "user-cancelled";
  if (e && e.code === webeid.ErrorCode.ERR_WEBEID_USER_TIMEOUT) return "timeout";
  return (e && e.code) || "error";
}

function showError(e) {
  const n = $("notice");
  n.replaceChildren();
  if (!e) {
    lastError = null;
    delete document.body.dataset.lastError;
    return;
  }
  lastError = { e };
  const code = codeOf(e);
  document.body.dataset.lastError = code;
  let text;
  if (code === "pin-incorrect") {
    const k = e.triesLeft;
    const tries = k === undefined ? t("error.pin-incorrect.unknown")
      : k === 1 ? t("error.pin-incorrect.last") : t("error.pin-incorrect.tries", { n: k });
    text = t("error.pin-incorrect", { tries });
  } else {
    text = messages[`error.${code}`] !== undefined ? t(`error.${code}`) : t("error.other", { code });
  }
  const title = para(t("error.title"));
  title.style.fontWeight = "700";
  n.append(title, para(text));
}

// ---- the bridge ---------------------------------------------------------------------

async function api(path, body) {
  const res = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!res.ok) throw Object.assign(new Error("portal"), { code: `portal-${res.status}` });
  return res.json();
}

// The screen that follows from the readers, unless a step or a session holds it.
function follow(s) {
  status = s;
  if (session) {
    const r = s.readers.find((x) => x.name === session.reader);
    if (!r || !r.card) logout("removed");
    return;
  }
  if (busy) return;
  if (!s.readers.length || s.service) {
    show("unavailable", { noReader: !s.service });
    return;
  }
  const cards = s.readers.filter((r) => r.card);
  if (!cards.length) {
    show("insert");
    return;
  }
  // A reader known to have a keypad, else one not known to lack it; a
  // reader found to lack one gives way to such a reader.
  const usable = (r) => r.pinpad || r.recognised === null;
  const current = cards.find((r) => r.name === chosenReader);
  if (!current || (!usable(current) && cards.some(usable))) {
    chosenReader = (cards.find((r) => r.pinpad) || cards.find(usable) || cards[0]).name;
  }
  show("ready");
}

async function refresh() {
  try {
    follow(await bridge.status());
  } catch {
    unavailable();
  }
}

let retryTimer = null;
function unavailable() {
  if (session) logout("lost");
  if (!busy) show("unavailable", { noReader: false });
  if (stopEvents) stopEvents();
  stopEvents = null;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, 3000);
}

async function connect() {
  if (!cfg) {
    const res = await fetch("config.json", { cache: "no-store" });
    cfg = await res.json();
    bridge = new CnieBridge({ url: cfg.bridge });
    webeid.configure({ url: cfg.bridge });
  }
  try {
    follow(await bridge.detect());
  } catch {
    unavailable();
    return;
  }
  if (!stopEvents) {
    stopEvents = bridge.events((ev) => {
      // The card of the session left its reader: the session ends now,
      // before anything else is drawn.
      if (session && ev.type === "card" && ev.state === "removed" && ev.reader === session.reader) {
        logout("removed");
      }
      if (ev.type === "card" && !busy) showError(null);
      if (ev.type === "card" && ev.state === "inserted" && !session) ended = null;
      refresh();
    }, streamBroke);
  }
}

// The event stream ended (cnied stopped, or the stream's lifetime is over,
// docs/bridge-api.md "events"): a removal could have been missed, so a
// session ends; then the page listens again at once.
function streamBroke() {
  if (stopEvents) stopEvents();
  stopEvents = null;
  if (session) logout("lost");
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, 200);
}

// ---- the session --------------------------------------------------------------------

async function login() {
  if (busy) return;
  const reader = status && status.readers.find((r) => r.name === chosenReader);
  if (!reader) return;
  busy = true;
  ended = null;
  showError(null);
  try {
    const { nonce } = await api("api/nonce", {});
    show("pin", { reader: reader.name });
    const token = await webeid.authenticate(nonce, { lang, reader: reader.name });
    show("verifying");
    const res = await api("api/login", { nonce, token });
    if (!res.valid) throw Object.assign(new Error("refused"), { code: "refused" });
    // The certificate's common name ends with its purpose: "NAME (Authentication)".
    const name = String(res.commonName || res.subject || "").replace(/\s*\([^)]*\)$/, "");
    session = { reader: reader.name, name };
    document.body.dataset.session = "in";
    armIdle();
    busy = false;
    show("logged-in");
    // The card may have left while the token was being checked.
    await refresh();
  } catch (e) {
    busy = false;
    showError(e);
    await refresh();
  }
}

function logout(reason) {
  if (!session) return;
  // Everything the session showed goes with it.
  session = null;
  clearTimeout(idleTimer);
  document.body.dataset.session = "ended";
  ended = reason;
  show("insert");
  // The screen that follows from the readers as they are now.
  if (bridge) refresh();
}

function armIdle() {
  clearTimeout(idleTimer);
  if (session) idleTimer = setTimeout(() => logout("idle"), IDLE_LOGOUT_MS);
}
for (const ev of ["pointerdown", "keydown"]) document.addEventListener(ev, armIdle, { passive: true });

// ---- start ----------------------------------------------------------------------------

for (const [code, l] of Object.entries(LANGUAGES)) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "secondary";
  b.lang = l.tag;
  b.dir = l.dir;
  b.textContent = l.name;
  b.dataset.lang = code;
  b.setAttribute("aria-pressed", "false");
  b.addEventListener("click", () => setLanguage(code));
  $("languages").append(b);
}
{
  const wanted = [new URLSearchParams(location.search).get("lang"), ...(navigator.languages || [])];
  const first = wanted.map((w) => (w ? String(w).toLowerCase().split("-")[0] : ""))
    .find((w) => Object.hasOwn(LANGUAGES, w));
  await setLanguage(first || "en");
}
await connect();
document.body.dataset.started = "1";
