// CNIE demo portal page: uses the bridge client (../cnie-bridge.js) and the
// demo server's /api endpoints (web/demo/server.py).
import { CnieBridge, CnieBridgeError, digest } from "./cnie-bridge.js";

const $ = (id) => document.getElementById(id);
let bridge;

function show(el, text, ok) {
  el.textContent = text;
  el.className = ok === undefined ? "" : ok ? "ok" : "bad";
}

function explain(e) {
  if (e instanceof CnieBridgeError) {
    const more = e.triesLeft !== undefined ? ` (${e.triesLeft} tries left)` : "";
    return `${e.code}: ${e.message}${more}`;
  }
  return String(e && e.message ? e.message : e);
}

async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

// Each button runs one step; failures end up in #error with their code.
function step(button, fn) {
  $(button).addEventListener("click", async () => {
    show($("error"), "");
    $(button).disabled = true;
    try {
      await fn();
    } catch (e) {
      show($("error"), explain(e), false);
      document.body.dataset.lastError = e.code || "error";
    } finally {
      $(button).disabled = false;
    }
  });
}

function renderStatus(s) {
  const readers = s.readers.map((r) =>
    `${r.name}: ${r.card ? (r.recognised ? "CNIE card" : "unknown card") : "no card"}${r.pinpad ? " (PIN pad)" : ""}`);
  show($("status"), `bridge ${s.version} — ${readers.length ? readers.join("; ") : "no reader"}`, true);
}

step("connect", async () => {
  const cfg = await api("/config.json");
  bridge = new CnieBridge({ url: cfg.bridge });
  const perm = await CnieBridge.permissionState();
  $("permission").textContent = perm === "unsupported" ? "" : `(local network permission: ${perm})`;
  renderStatus(await bridge.detect());
  bridge.events(async (ev) => {
    const li = document.createElement("li");
    li.textContent = `${ev.type} ${ev.reader}: ${ev.state}`;
    $("events").append(li);
    try { renderStatus(await bridge.status()); } catch (_) { /* shown on next action */ }
  });
  for (const b of ["login-btn", "sign-btn", "identity-btn"]) $(b).disabled = false;
  document.body.dataset.connected = "1";
});

step("login-btn", async () => {
  show($("login-result"), "asking the portal for a challenge…");
  const { nonce } = await api("/api/nonce", {});
  show($("login-result"), "confirm on the card (PIN dialog)…");
  const token = await bridge.authenticate(nonce);
  const res = await api("/api/login", { nonce, token });
  window.__lastLogin = { nonce, token };
  if (res.valid) {
    show($("login-result"), `Logged in as ${res.commonName || res.subject} (${res.algorithm}), verified by the portal`, true);
    document.body.dataset.login = "ok";
  } else {
    show($("login-result"), `Login refused: ${res.reason} ${res.message || ""}`, false);
    document.body.dataset.login = "refused";
  }
});

step("sign-btn", async () => {
  const text = $("document").value;
  const hash = await digest(text, "SHA-256");
  show($("sign-result"), "reading the signing certificate…");
  const { certificate } = await bridge.getCertificate("sign");
  show($("sign-result"), "confirm the signature (PIN dialog)…");
  const sig = await bridge.sign(certificate, hash, "SHA-256");
  const res = await api("/api/verify-signature", {
    document: text, certificate, signature: sig.signature, signatureAlgorithm: sig.signatureAlgorithm,
  });
  if (res.valid) {
    show($("sign-result"), `Signature verified by the portal: ${res.subject}`, true);
    document.body.dataset.sign = "ok";
  } else {
    show($("sign-result"), `Signature NOT valid: ${res.reason}`, false);
    document.body.dataset.sign = "refused";
  }
});

// ICAO 9303 names keep the MRZ filler: "SURNAME<<GIVEN<NAMES" reads as
// "SURNAME, GIVEN NAMES" (Arabic names too).
function readable(v) {
  if (Array.isArray(v)) return v.map(readable).join("; ");
  if (typeof v === "object" && v !== null) return JSON.stringify(v);
  return String(v).replace(/<<+/, ", ").replace(/<+/g, " ").trim();
}

function addRow(table, k, v) {
  const tr = document.createElement("tr");
  const a = document.createElement("td");
  const b = document.createElement("td");
  a.textContent = k;
  b.textContent = k.startsWith("names.") ? readable(v) : typeof v === "object" ? JSON.stringify(v) : String(v);
  tr.append(a, b);
  table.append(tr);
}

step("identity-btn", async () => {
  show($("identity-result"), "confirm sharing your identity with this site…");
  const id = await bridge.identity(["mrz", "names", "photo"]);
  const table = $("identity");
  table.replaceChildren();
  for (const group of ["names", "mrz"]) {
    if (id[group] && typeof id[group] === "object") {
      for (const [k, v] of Object.entries(id[group])) addRow(table, `${group}.${k}`, v);
    }
  }
  const img = $("photo");
  if (id.photo && id.photo.format === "jpeg") {
    img.src = `data:image/jpeg;base64,${id.photo.data}`;
    await img.decode();
    img.style.display = "block";
    img.dataset.loaded = "1";
    show($("identity-result"), "Identity read with consent.", true);
  } else if (id.photo && id.photo.format === "jp2") {
    img.style.display = "none";
    show($("identity-result"), "Identity read. The photo is JPEG 2000, which this browser cannot show; " +
      "a portal converts it on the server.", true);
  } else {
    show($("identity-result"), "Identity read (no photo).", true);
  }
  document.body.dataset.identity = "ok";
});
