// The imner web app: plain JavaScript over the server's own API (no external assets).
// Offsets from the API count Unicode code points (Python str indices), so texts are sliced with Array.from,
// never with String.slice (UTF-16 units), and every text goes into the page as text nodes, never as HTML.
"use strict";

const state = { labels: [], byName: {}, hidden: new Set(), docs: [], concepts: {}, pinned: null };

const ASSERTIONS = [
  ["negated", "neg", "NEG"], ["uncertain", "unc", "?"], ["hypothetical", "hyp", "HYP"], ["historical", "hist", "HIST"],
  ["family", "fam", "FAM"],
];
const CODE_FIELDS = [
  ["doid", "Disease Ontology"], ["hpo", "Human Phenotype Ontology"], ["ncbitaxon", "NCBI Taxonomy"],
  ["drugbank", "DrugBank"], ["icd10cm", "ICD-10-CM"],
];

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") node.style.cssText = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role") node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function setStatus(message, isError = false) {
  const s = $("#status");
  s.textContent = message;
  s.classList.toggle("error", isError);
}

async function api(path, options = {}) {
  const r = await fetch(path, options);
  if (!r.ok) {
    let message = `${r.status} ${r.statusText}`;
    try { message = (await r.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return r;
}

// ------------------------------------------------------------------------------------------------ start-up

async function init() {
  const labels = await (await api("/v1/labels")).json();
  state.labels = labels.labels;
  for (const lab of state.labels) state.byName[lab.name] = lab;
  renderLegend();
  for (let i = 0; i < 600; i++) {  // wait for the model (GET /health answers 503 until it is loaded)
    const r = await fetch("/health");
    if (r.ok) {
      const h = await r.json();
      $("#model-info").textContent = `model: ${h.model.name} (${h.model.tagger}), steps: ${h.model.steps.join(", ")}`;
      $("#cohort").hidden = !h.cohort;
      return;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  $("#model-info").textContent = "the model did not load; see the server log";
}

function renderLegend() {
  const box = $("#labels");
  box.replaceChildren();
  const counts = {};
  for (const d of state.docs) for (const e of d.entities) counts[e.label] = (counts[e.label] || 0) + 1;
  for (const lab of state.labels) {
    const b = el("button", { type: "button", title: lab.description, style: `--c:${lab.color}`,
      "data-label": lab.name, "aria-pressed": state.hidden.has(lab.name) ? "false" : "true" }, lab.name);
    if (counts[lab.name]) b.append(el("span", { className: "count" }, String(counts[lab.name])));
    b.addEventListener("click", () => {
      if (state.hidden.has(lab.name)) state.hidden.delete(lab.name); else state.hidden.add(lab.name);
      b.setAttribute("aria-pressed", state.hidden.has(lab.name) ? "false" : "true");
      for (const m of document.querySelectorAll(`mark.ent[data-label="${lab.name}"]`)) {
        m.classList.toggle("off", state.hidden.has(lab.name));
      }
    });
    box.append(b);
  }
}

// ------------------------------------------------------------------------------------------------ input

function stem(name) { return name.replace(/\.[^.]*$/, ""); }

async function readFiles(files) {
  const docs = [];
  for (const f of files) {
    let text;
    try {  // UTF-8 only, as imner extract reads files: a bad byte is an error, never a replacement character
      text = new TextDecoder("utf-8", { fatal: true }).decode(await f.arrayBuffer());
    } catch (_) {
      throw new Error(`${f.name}: not valid UTF-8; convert it (e.g. iconv -f LATIN1 -t UTF-8)`);
    }
    if (/\.(jsonl|ndjson)$/i.test(f.name)) {
      text.split("\n").forEach((line, i) => {
        if (!line.trim()) return;
        let obj;
        try { obj = JSON.parse(line); } catch (e) { throw new Error(`${f.name}, line ${i + 1}: invalid JSON (${e.message})`); }
        if (typeof obj.text !== "string") throw new Error(`${f.name}, line ${i + 1}: each line needs "text" (a string)`);
        docs.push({ id: String(obj.id ?? `${stem(f.name)}:${i + 1}`), text: obj.text });
      });
    } else {
      docs.push({ id: stem(f.name), text: text.replace(/^\ufeff/, "") });
    }
  }
  return docs;
}

async function extract() {
  setStatus("extracting…");
  $("#run").disabled = true;
  try {
    const files = $("#files").files;
    let docs = files.length ? await readFiles(files) : [];
    const pasted = $("#text").value;
    if (pasted.trim()) docs = [{ id: "pasted", text: pasted }, ...docs];
    if (!docs.length) throw new Error("paste a text or choose a file first");
    const options = { assertion: $("#opt-assertion").checked, normalize: $("#opt-normalize").checked,
      patient: $("#opt-patient").checked };
    const t0 = performance.now();
    const r = await api("/v1/extract", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ documents: docs, options }) });
    const res = await r.json();
    state.docs = res.documents.map((d, i) => ({ ...d, text: docs[i].text }));
    await fetchConcepts();
    renderResults();
    renderLegend();
    const n = state.docs.reduce((a, d) => a + d.entities.length, 0);
    setStatus(`${state.docs.length} document(s), ${n} entities in ${Math.round(performance.now() - t0)} ms`);
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    $("#run").disabled = false;
  }
}

async function fetchConcepts() {
  const ids = new Set();
  for (const d of state.docs) for (const e of d.entities) {
    for (const [field] of CODE_FIELDS) if (typeof e[field] === "string" && !(e[field] in state.concepts)) ids.add(e[field]);
  }
  const list = [...ids];
  for (let i = 0; i < list.length; i += 400) {
    const r = await api(`/v1/concepts?ids=${encodeURIComponent(list.slice(i, i + 400).join(","))}`);
    Object.assign(state.concepts, (await r.json()).concepts);
  }
}

// ------------------------------------------------------------------------------------------------ results

function renderResults() {
  const box = $("#results");
  box.replaceChildren();
  state.docs.forEach((doc, di) => {
    const art = el("article", { "data-doc": doc.id }, el("h2", {}, doc.id));
    if (doc.patient) art.append(patientCard(doc));
    art.append(renderText(doc, di));
    box.append(art);
  });
  $("#downloads").hidden = !state.docs.length;
  $("#panel").hidden = true;
}

function patientCard(doc) {
  const p = doc.patient;
  const chars = Array.from(doc.text);
  const evidence = (ev) => (ev ? `“${chars.slice(ev.start, ev.end).join("")}”` : "");
  const item = (name, value, ev) => [el("dt", {}, name), el("dd", {}, value ?? "not stated", " ",
    el("span", { className: "muted" }, evidence(ev)))];
  const age = p.age === null || p.age === undefined ? null
    : `${p.age_approximate ? "about " : ""}${Number(p.age.toFixed(2))} years`;
  const dl = el("dl", { className: "patient-card", "aria-label": "patient" });
  for (const [dt, dd] of [item("Age", age, p.age_evidence), item("Age group", p.age_group, p.age_group_evidence),
    item("Sex", p.sex, p.sex_evidence)]) dl.append(el("div", {}, dt, dd));
  return dl;
}

function renderText(doc, di) {
  const chars = Array.from(doc.text);
  const div = el("div", { className: "text" });
  let pos = 0;
  const spans = doc.entities.map((e, i) => [e, i]).sort((a, b) => a[0].start - b[0].start || b[0].end - a[0].end);
  for (const [e, ei] of spans) {
    if (e.start < pos) continue;  // overlapping mentions (not produced by imner's taggers): the first one shows
    div.append(chars.slice(pos, e.start).join(""));
    div.append(markFor(doc, di, e, ei, chars.slice(e.start, e.end).join("")));
    pos = e.end;
  }
  div.append(chars.slice(pos).join(""));
  return div;
}

function markFor(doc, di, e, ei, surface) {
  const lab = state.byName[e.label];
  const m = el("mark", { className: "ent", tabIndex: 0, style: `--c:${lab ? lab.color : "#999"}`,
    "data-label": e.label, "data-doc": String(di), "data-ent": String(ei) }, surface);
  m.append(el("span", { className: "tag" }, e.label));
  for (const [key, cls, flag] of ASSERTIONS) {
    if (e[key]) { m.classList.add(cls); m.append(el("span", { className: `flag ${cls}`, title: key }, flag)); }
  }
  if (state.hidden.has(e.label)) m.classList.add("off");
  m.addEventListener("mouseenter", () => { if (!state.pinned) showPanel(di, ei); });
  m.addEventListener("click", () => {
    if (m.classList.contains("off")) return;
    document.querySelectorAll("mark.selected").forEach((x) => x.classList.remove("selected"));
    state.pinned = [di, ei];
    m.classList.add("selected");
    showPanel(di, ei);
  });
  m.addEventListener("keydown", (ev) => { if (ev.key === "Enter") m.click(); });
  return m;
}

function showPanel(di, ei) {
  const doc = state.docs[di];
  const e = doc.entities[ei];
  const lab = state.byName[e.label];
  const panel = $("#panel");
  panel.style.setProperty("--c", lab ? lab.color : "#999");
  const rows = [];
  const row = (name, ...value) => rows.push(el("dt", {}, name), el("dd", {}, ...value));
  row("Class", el("span", { className: "cls" }, e.label));
  row("Offsets", `${e.start}–${e.end}` + (e.score !== null && e.score !== undefined ? `, score ${e.score.toFixed(2)}` : ""));
  const flags = ASSERTIONS.map(([key]) => el("span", { className: `chip ${e[key] ? "yes" : ""}` },
    `${key}: ${e[key] ? "yes" : "no"}`));
  const asserted = (key) => e[key] !== undefined && e[key] !== null;  // null: a class imner does not assert
  if (ASSERTIONS.some(([key]) => asserted(key))) row("Assertion", ...flags.filter((_, i) => asserted(ASSERTIONS[i][0])));
  if (e.experiencer) row("Experiencer", e.experiencer);
  if (e.section) row("Section", e.section);
  if (e.category) row("Category", e.category + (e.subcategory ? ` · ${e.subcategory}` : ""));
  if (e.kind) row("Kind", e.kind);
  if (e.drug_class) row("Drug class", e.drug_class);
  for (const [field, system] of CODE_FIELDS) {
    const v = e[field];
    if (v === undefined || v === null) continue;
    const codes = Array.isArray(v) ? v : [v];
    row(system, ...codes.map((c) => {
      const concept = state.concepts[c];
      return el("div", {}, el("span", { className: "code" }, c), concept ? ` ${concept.name}` : "");
    }));
  }
  if (e.code_status === "unmapped") row("Codes", "no concept in the lexicon matched this mention");
  else if (e.concept_name && !CODE_FIELDS.some(([f]) => e[f])) row("Concept", `${e.concept_id} ${e.concept_name}`);
  if (e.abbreviation_of) row("Abbreviation of", e.abbreviation_of);
  panel.replaceChildren(
    el("h3", {}, e.text),
    el("div", { className: "desc" }, lab ? lab.description : ""),
    el("dl", {}, ...rows),
    el("p", { className: "muted" }, state.pinned ? "pinned: click another mention to change" : "click to pin"));
  panel.hidden = false;
}

// ------------------------------------------------------------------------------------------------ downloads

async function download(format) {
  try {
    const r = await api(`/v1/export?format=${format}`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ documents: state.docs }) });
    const blob = await r.blob();
    const names = { brat: "imner-brat.zip", fhir: "imner-fhir.ndjson", jsonl: "imner.jsonl" };
    const a = el("a", { href: URL.createObjectURL(blob), download: names[format] });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) {
    setStatus(e.message, true);
  }
}

// ------------------------------------------------------------------------------------------------ cohort search

async function cohortSearch() {
  const box = $("#cohort-results");
  const status = $("#cohort-status");
  status.textContent = "searching…";
  status.classList.remove("error");
  try {
    const r = await api("/v1/cohort", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: $("#cohort-query").value, evidence: true }) });
    const res = await r.json();
    status.textContent = `${res.matched} of ${res.indexed} documents; ` +
      res.resolution.map((x) => `${x.term} = ${x.meaning}`).join("; ");
    box.replaceChildren(...res.documents.map((d) => {
      const art = el("article", { "data-doc": d.doc_id }, el("h3", {}, d.doc_id),
        el("div", { className: "muted" }, `age ${d.age ?? "?"} (${d.age_group ?? "?"}), sex ${d.sex ?? "?"}`));
      for (const ev of d.evidence || []) {  // the sentence, with the matched mention highlighted
        const chars = Array.from(ev.sentence);
        const a = ev.start - ev.sentence_start, b = ev.end - ev.sentence_start;
        const lab = state.byName[ev.label];
        art.append(el("p", { className: "evidence" }, chars.slice(0, a).join(""),
          el("mark", { className: "ent", style: `--c:${lab ? lab.color : "#999"}` }, chars.slice(a, b).join(""),
            el("span", { className: "tag" }, ev.label)), chars.slice(b).join("")));
      }
      return art;
    }));
  } catch (e) {
    status.textContent = e.message;
    status.classList.add("error");
  }
}

$("#cohort-run").addEventListener("click", cohortSearch);
$("#run").addEventListener("click", extract);
$("#text").addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) extract(); });
document.querySelectorAll("#downloads button").forEach((b) => b.addEventListener("click", () => download(b.dataset.format)));
init().catch((e) => setStatus(e.message, true));
