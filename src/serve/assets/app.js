// provenance serve: progressive behaviour. Every page works without this
// file; with it: drag-and-drop and paste of a picture, decisions without a
// reload and with keys, compare modes, live scan progress.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

function setupDrop() {
  const drop = document.getElementById("drop");
  const input = document.getElementById("image");
  if (!drop || !input) return;
  const name = document.getElementById("drop-name");
  const show = () => { name.textContent = input.files.length ? input.files[0].name : ""; };
  input.addEventListener("change", show);
  const take = (files) => {
    if (!files || !files.length) return;
    const dt = new DataTransfer();
    dt.items.add(files[0]);
    input.files = dt.files;
    show();
  };
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => { e.preventDefault(); take(e.dataTransfer.files); });
  document.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (files.length) take(files);
  });
}

const LABELS = { confirmed: "confirmed copy", not_a_copy: "not a copy", ignored: "ignored" };

async function decide(form, decision) {
  const card = form.closest("article.match");
  const body = new URLSearchParams(new FormData(form));
  body.set("decision", decision);
  const answer = await fetch(form.action, {
    method: "POST",
    headers: { "Accept": "application/json", "X-CSRF-Token": csrf() },
    body,
  });
  if (!answer.ok) {
    let message = "The decision was not recorded.";
    try { message = (await answer.json()).error.message; } catch (_) { /* keep */ }
    alert(message);
    return;
  }
  const was = card.dataset.decision;
  card.dataset.decision = decision;
  card.className = card.className.replace(/reviewed-\S+/, "reviewed-" + decision);
  const badge = card.querySelector(".badge");
  badge.className = "badge decision-" + decision;
  badge.textContent = LABELS[decision];
  const counter = document.getElementById("reviewed-count");
  if (counter && was === "none") {
    counter.textContent = counter.textContent.replace(/^\d+/, (n) => String(Number(n) + 1));
  }
}

function setupReviews() {
  const cards = [...document.querySelectorAll("article.match")];
  if (!cards.length) return;
  for (const form of document.querySelectorAll("form.review")) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const button = e.submitter || form.querySelector("button[name=decision]");
      decide(form, button.value);
    });
  }
  const current = () => cards.find((c) => c === document.activeElement || c.contains(document.activeElement))
    || cards.find((c) => c.dataset.decision === "none") || cards[0];
  const move = (step) => {
    const i = cards.indexOf(current());
    const next = cards[Math.min(cards.length - 1, Math.max(0, i + step))];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  };
  const keys = { c: "confirmed", n: "not_a_copy", i: "ignored" };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest("input, textarea, select")) return;
    if (e.key === "j") move(1);
    else if (e.key === "k") move(-1);
    else if (e.key === "o") current().querySelector("a.compare")?.click();
    else if (keys[e.key]) {
      const card = current();
      decide(card.querySelector("form.review"), keys[e.key]).then(() => card.focus());
    }
  });
}

function setupCompare() {
  const box = document.getElementById("compare");
  if (!box) return;
  const modes = document.querySelector(".modes");
  modes.hidden = false;
  const frame = box.querySelector(".query-pane .frame");
  const query = document.getElementById("query-img");
  const aligned = document.getElementById("match-img").cloneNode();
  aligned.id = "aligned";
  aligned.alt = "the match laid over the query";
  frame.appendChild(aligned);
  const corners = box.dataset.imageInQuery ? JSON.parse(box.dataset.imageInQuery) : null;
  const place = () => {
    const w = query.clientWidth, h = query.clientHeight;
    aligned.style.width = w + "px";
    aligned.style.height = h + "px";
    if (!corners || !w || !h) { aligned.style.transform = ""; return; }
    const [p0, p1, , p3] = corners;
    const m = [p1[0] - p0[0], (p1[1] - p0[1]) * h / w, (p3[0] - p0[0]) * w / h, p3[1] - p0[1], p0[0] * w, p0[1] * h];
    aligned.style.transform = "matrix(" + m.join(",") + ")";
  };
  query.addEventListener("load", place);
  window.addEventListener("resize", place);
  place();
  const opacity = document.getElementById("opacity");
  let timer = null;
  const setMode = (mode) => {
    box.className = "compare mode-" + mode;
    for (const b of modes.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    clearInterval(timer);
    aligned.style.opacity = mode === "overlay" ? String(opacity.value / 100) : "1";
    if (mode === "flicker") {
      let on = true;
      timer = setInterval(() => { on = !on; aligned.style.opacity = on ? "1" : "0"; }, 600);
    }
    place();
  };
  for (const b of modes.querySelectorAll("button")) b.addEventListener("click", () => setMode(b.dataset.mode));
  opacity.addEventListener("input", () => { if (box.classList.contains("mode-overlay")) aligned.style.opacity = String(opacity.value / 100); });
}

function setupScan() {
  const status = document.getElementById("scan-status");
  if (!status || status.textContent !== "running" || !window.EventSource) return;
  const events = new EventSource(status.dataset.events);
  const show = (counts) => {
    for (const el of document.querySelectorAll("[data-counter]")) {
      const v = counts?.[el.dataset.counter];
      if (v !== undefined) el.textContent = String(v);
    }
  };
  events.addEventListener("progress", (e) => { const d = JSON.parse(e.data); show(d.live); });
  events.addEventListener("end", (e) => {
    const d = JSON.parse(e.data);
    show(d.live || d.counts);
    status.textContent = d.status;
    document.getElementById("cancel-scan")?.closest("form")?.remove();
    events.close();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupDrop();
  setupReviews();
  setupCompare();
  setupScan();
});
