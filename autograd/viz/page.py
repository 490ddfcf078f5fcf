"""The explorer page: HTML, CSS and script in one string (``explorer.py`` fills in the payload).

Everything the page needs is inline; it reads its graph from the JSON in
``<script id="payload">`` and the SVG layouts in it. No library, no network.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 14px/1.4 Helvetica, Arial, sans-serif; display: flex; flex-direction: column; color: #222; }
header { padding: 6px 12px; background: #f4f6fa; border-bottom: 1px solid #d5dbe5; }
header h1 { font-size: 16px; margin: 0 12px 0 0; display: inline; }
#stats { color: #666; font-size: 12px; }
#toolbar { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 4px; }
#toolbar button, #stepper button { padding: 2px 8px; }
#search { width: 16em; }
#crumbs a { cursor: pointer; color: #1d5fa8; text-decoration: underline; }
#main { flex: 1; display: flex; min-height: 0; }
#canvas { flex: 1; position: relative; overflow: hidden; cursor: grab; background: #fff; }
#canvas.dragging { cursor: grabbing; }
#canvas svg { width: 100%; height: 100%; display: block; user-select: none; }
#side { width: 330px; border-left: 1px solid #d5dbe5; overflow-y: auto; padding: 8px 12px;
  background: #fbfcfe; }
#side h2 { font-size: 14px; margin: 10px 0 4px; }
#details table { border-collapse: collapse; width: 100%; }
#details th { text-align: left; vertical-align: top; padding: 2px 8px 2px 0; color: #555; font-weight: normal;
  white-space: nowrap; }
#details td { padding: 2px 0; word-break: break-word; }
#details .name { font-size: 16px; font-weight: bold; margin: 4px 0; }
#details a, #step-text a { color: #1d5fa8; cursor: pointer; }
.rule { font-family: Menlo, Consolas, monospace; font-size: 12px; }
#stepper { border-top: 1px solid #d5dbe5; margin-top: 10px; }
#step-slider { width: 100%; }
#step-counter { font-weight: bold; }
#notes { color: #7a5b00; background: #fffbe6; font-size: 12px; padding: 4px; margin-top: 10px; }
#notes:empty { display: none; }
#flagged { color: #b00; font-weight: bold; }
g.node { cursor: pointer; }
g.node.match :is(polygon, ellipse, path) { stroke: #e6550d; stroke-width: 4; }
g.node.on-path :is(polygon, ellipse, path), g.edge.on-path path { stroke: #d62728; stroke-width: 3; }
g.edge.on-path polygon { stroke: #d62728; fill: #d62728; }
g.node.flagged :is(polygon, ellipse, path) { stroke: #d62728; stroke-width: 5; stroke-dasharray: 6 3; }
g.node.focus :is(polygon, ellipse, path) { stroke: #d62728; stroke-width: 4; }
g.node.receiver :is(polygon, ellipse, path) { stroke: #ff7f0e; stroke-width: 3.5; }
g.edge.sending path { stroke: #d62728; stroke-width: 3; }
g.edge.sending polygon { stroke: #d62728; fill: #d62728; }
g.node.waiting text { fill: #aaa; }
g.node.selected :is(polygon, ellipse, path) { stroke: #e7298a; stroke-width: 5; }
.hidden { display: none; }
g.fold rect { fill: #e8eef7; stroke: #4a6fa5; stroke-width: 1.5; }
g.fold { cursor: pointer; }
</style></head>
<body>
<header>
<h1 id="title">__TITLE__</h1><span id="stats"></span> <span id="flagged"></span>
<div id="toolbar">
<button id="zoom-in" title="zoom in">+</button><button id="zoom-out" title="zoom out">&minus;</button>
<button id="fit" title="fit the whole graph">fit</button>
<input id="search" type="search" placeholder="search a label or parameter name">
<span id="search-count"></span>
<label><input type="checkbox" id="colour"> gradient colours</label>
<button id="fold-all">fold modules</button><button id="unfold-all">unfold modules</button>
<span id="crumbs"></span>
</div>
</header>
<div id="main">
<div id="canvas"></div>
<aside id="side">
<div id="details"><p>Click a node to see its data, gradient and local rule.
Drag to pan, scroll to zoom.</p></div>
<div id="stepper">
<h2>Backward pass, step by step</h2>
<button id="step-first" title="back to the start">start</button>
<button id="step-back" title="back (&larr;)">&#9664;</button>
<button id="step-next" title="next (&rarr;)">&#9654;</button>
<span id="step-counter"></span>
<input id="step-slider" type="range" min="0" value="0">
<div id="step-text"></div>
</div>
<div id="notes"></div>
</aside>
</div>
<script type="application/json" id="payload">__PAYLOAD__</script>
<script>
"use strict";
const P = JSON.parse(document.getElementById("payload").textContent);
const $ = id => document.getElementById(id);
const canvas = $("canvas");
const READABLE = 0.9;  // screen pixels per graphviz point at which 11 pt node text is easy to read
const viewsById = Object.fromEntries(P.views.map(v => [v.id, v]));
let consumerLists = null;
function consumers(key) {  // who reads a node: built on first use (a large graph opens sooner)
  if (!consumerLists) {
    consumerLists = {};
    for (const [k, node] of Object.entries(P.nodes))
      for (const input of node.inputs || []) (consumerLists[input] = consumerLists[input] || []).push(k);
  }
  return consumerLists[key] || [];
}
let svg = null, vb = null, home = null, current = null, trail = [];
let selected = null, matches = [], matchAt = 0, folded = new Set(), step = null;

function esc(text) {
  return String(text).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);
}
function byKey(key) { return svg.querySelector(`[data-node="${CSS.escape(key)}"]`); }
function baseKey(key) { return key.replace(/\.(op|in\d+)$/, ""); }
function shown(key) {  // the element standing for a node here: itself, or the folded group it is in
  const own = byKey(key);
  if (own && !own.classList.contains("hidden")) return own;
  const node = P.nodes[key];
  if (node && node.module) {
    for (const m of folded) if (node.module === m || node.module.startsWith(m + ".")) return foldOf(m);
  }
  return node && node.group ? byKey("group:" + node.group) : null;
}

// ------------------------------------------------------------------ views, pan and zoom
function openView(id) {
  current = viewsById[id];
  canvas.innerHTML = current.svg;
  svg = canvas.querySelector("svg");
  svg.removeAttribute("width"); svg.removeAttribute("height");
  const box = svg.viewBox.baseVal;
  home = {x: box.x, y: box.y, w: box.width, h: box.height};
  folded = new Set();
  fit();
  const r = canvas.getBoundingClientRect();
  if (r.width / vb.w < READABLE) {  // too small to read: open at a readable size on the output end
    const root = shown(P.root), w = r.width / READABLE, h = r.height / READABLE;
    setBox({x: home.x + home.w - w, y: home.y + home.h / 2 - h / 2, w, h});  // the output end (LR)
    if (root) {
      centre(root, false);
      setBox({...vb, x: vb.x - 0.3 * vb.w});  // the output near the right edge, its inputs in view
    }
  }
  paintColours();
  drawCrumbs();
  if (P.highlight) markPath(P.highlight, "flagged");
  showStep(step === null ? null : step);
  $("stepper").classList.toggle("hidden", !P.steps || id !== "main");
}
function setBox(box) {
  vb = box;
  svg.setAttribute("viewBox", `${vb.x} ${vb.y} ${vb.w} ${vb.h}`);
}
function fit() {
  const r = canvas.getBoundingClientRect(), aspect = (r.width || 800) / (r.height || 600);
  let w = home.w * 1.04, h = home.h * 1.04;
  if (w / h < aspect) w = h * aspect; else h = w / aspect;
  setBox({x: home.x + home.w / 2 - w / 2, y: home.y + home.h / 2 - h / 2, w, h});
}
function toSvg(clientX, clientY) {
  const m = svg.getScreenCTM().inverse(), p = svg.createSVGPoint();
  p.x = clientX; p.y = clientY;
  return p.matrixTransform(m);
}
function zoom(factor, clientX, clientY) {
  const r = canvas.getBoundingClientRect();
  const at = toSvg(clientX ?? r.left + r.width / 2, clientY ?? r.top + r.height / 2);
  const w = Math.min(Math.max(vb.w * factor, 20), home.w * 20), f = w / vb.w;
  setBox({x: at.x - (at.x - vb.x) * f, y: at.y - (at.y - vb.y) * f, w, h: vb.h * f});
}
function bboxOf(el) {  // an element's box in the svg's user units
  const r = el.getBoundingClientRect(), a = toSvg(r.left, r.top), b = toSvg(r.right, r.bottom);
  return {x: a.x, y: a.y, w: b.x - a.x, h: b.y - a.y};
}
function centre(el, zoomIn) {
  const b = bboxOf(el), cx = b.x + b.w / 2, cy = b.y + b.h / 2;
  let w = vb.w, h = vb.h;
  if (zoomIn) {
    const f = Math.min(1, Math.max(b.w * 5, 500) / vb.w);
    w *= f; h *= f;
  }
  setBox({x: cx - w / 2, y: cy - h / 2, w, h});
}
function keepInView(el) {  // pan (never zoom) so that el is visible
  const b = bboxOf(el);
  if (b.x < vb.x || b.y < vb.y || b.x + b.w > vb.x + vb.w || b.y + b.h > vb.y + vb.h) centre(el, false);
}
canvas.addEventListener("wheel", e => {
  e.preventDefault();
  zoom(Math.exp(e.deltaY * 0.0015), e.clientX, e.clientY);
}, {passive: false});
let drag = null;
canvas.addEventListener("mousedown", e => { drag = {x: e.clientX, y: e.clientY, box: vb, moved: false}; });
window.addEventListener("mousemove", e => {
  if (!drag) return;
  const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
  if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; canvas.classList.add("dragging"); }
  if (!drag.moved) return;
  const scale = drag.box.w / canvas.getBoundingClientRect().width;
  setBox({...drag.box, x: drag.box.x - dx * scale, y: drag.box.y - dy * scale});
});
window.addEventListener("mouseup", () => {
  canvas.classList.remove("dragging");
  setTimeout(() => { drag = null; }, 0);
});
$("zoom-in").onclick = () => zoom(1 / 1.4);
$("zoom-out").onclick = () => zoom(1.4);
$("fit").onclick = fit;

// ------------------------------------------------------------------ details
function numbers(n) {
  if (!n) return "none";
  const parts = [];
  if (n.shape) parts.push(`shape (${n.shape.join(", ")}${n.shape.length === 1 ? "," : ""}) ${esc(n.dtype)}`);
  if (n.value !== undefined) parts.push(`<span data-stat="value">${esc(n.value)}</span>`);
  for (const s of ["min", "mean", "max", "norm"])
    if (n[s] !== undefined) parts.push(`${s} <span data-stat="${s}">${esc(n[s])}</span>`);
  return parts.join("<br>");
}
function link(key) {
  const n = P.nodes[key];
  return n ? `<a data-go="${esc(key)}">${esc(n.name)}</a>` : "input (not a node)";
}
function row(head, body) { return `<tr><th>${head}</th><td>${body}</td></tr>`; }
function showDetails(key) {
  const d = $("details");
  d.dataset.node = key;
  if (key.startsWith("group:") || key.startsWith("fold:")) return showGroup(key);
  if (/\.in\d+$/.test(key)) {
    d.innerHTML = `<div class="name">input (not a node)</div><p>Raw data passed to
      ${link(baseKey(key))}: a constant, so no gradient flows to it.</p>`;
    return;
  }
  const n = P.nodes[baseKey(key)], op = n.fn ? P.ops[n.fn] : null;
  let rows = row("kind", esc(n.kind || "op output")) + (n.module ? row("module", esc(n.module)) : "");
  if (n.hooks) rows += row("hooks", esc(n.hooks.join(", ")) + " (run on its gradient in backward)");
  if (op) {
    rows += row("op", `${esc(op.function)}: <span class="rule">${esc(n.name)} = ${esc(n.expression)}</span>`);
  }
  rows += row("data", `<span data-field="data">${numbers(n.data)}</span>`);
  rows += row("grad", `<span data-field="grad">${n.grad === null ? "no gradient (constant)" :
    n.grad.missing ? "none (an intermediate's gradient is freed after backward; retain_grad() keeps it)" :
    numbers(n.grad)}</span>`);
  if (op) {
    const rules = (n.local && op.rules.length === n.local.length ? n.local : op.rules).map(esc).join("<br>");
    rows += row("local rule", `<span class="rule" data-field="rule">${esc(op.formula)}<br>${rules}</span>`);
    rows += row("inputs", (n.inputs || []).map(link).join(", "));
  }
  const users = consumers(baseKey(key));
  if (users.length) rows += row("used by", users.slice(0, 12).map(link).join(", ") +
    (users.length > 12 ? ` and ${users.length - 12} more` : ""));
  if (n.health) rows += row("gradient", `<b>${esc(n.health)}</b>`);
  d.innerHTML = `<div class="name">${esc(n.name)}</div><table>${rows}</table>
    <p><button id="path-button">path to the root</button></p>`;
  $("path-button").onclick = () => markPath(baseKey(key), "on-path");
  if (n.kind === "parameter") markPath(baseKey(key), "on-path");
}
function showGroup(key) {
  const name = key.replace(/^(group|fold):/, "");
  const g = P.groups["group:" + name];
  const d = $("details");
  if (key.startsWith("fold:")) {
    d.innerHTML = `<div class="name">${esc(name)}</div><p>Folded module.
      <button id="unfold-button">unfold</button></p>`;
    $("unfold-button").onclick = () => { folded.delete(name); applyFolds(); };
    return;
  }
  const ops = g ? Object.entries(g.ops).map(([op, c]) => `${c} ${esc(op)}`).join(", ") : "";
  const layout = viewsById["module:" + name];
  d.innerHTML = `<div class="name">${esc(g ? g.name : name)}</div><table>
    ${row("values", g ? g.values.toLocaleString() : "")}${row("ops", ops)}
    ${row("‖grad‖ of its parameters", g ? esc(g.grad_norm) : "")}</table>` + (layout ?
    `<p><button id="unfold-button">unfold (open its layout)</button></p>` :
    `<p>This summary has no layout of its own in this page (modules are laid out at save time,
      up to a budget).</p>`);
  if (layout) $("unfold-button").onclick = () => { trail.push(current.id); openView(layout.id); };
}
canvas.addEventListener("click", e => {
  if (drag && drag.moved) return;
  const el = e.target.closest("[data-node]");
  if (!el) return;
  select(el.dataset.node, false);
});
function select(key, move) {
  clearClass("selected"); clearClass("on-path");
  selected = key;
  const el = key.startsWith("fold:") || key.startsWith("group:") ? byKey(key) : shown(baseKey(key));
  if (el) { el.classList.add("selected"); if (move) centre(el, true); }
  showDetails(key);
}
$("details").addEventListener("click", e => {
  const a = e.target.closest("[data-go]");
  if (a) select(a.dataset.go, true);
});
function clearClass(name) { svg.querySelectorAll("." + name).forEach(el => el.classList.remove(name)); }

// ------------------------------------------------------------------ path to the root
function markPath(start, cls) {
  clearClass(cls);
  const on = new Set([start]), todo = [start];
  while (todo.length) {
    for (const c of consumers(todo.pop())) if (!on.has(c)) { on.add(c); todo.push(c); }
  }
  for (const key of on) {
    const el = shown(key);
    if (el) el.classList.add(cls);
    const op = byKey(key + ".op");
    if (op && !op.classList.contains("hidden")) op.classList.add(cls);
  }
  svg.querySelectorAll("g.edge[data-to]").forEach(e => {
    if (on.has(baseKey(e.dataset.to)) && on.has(baseKey(e.dataset.from))) e.classList.add(cls);
  });
}

// ------------------------------------------------------------------ search
$("search").addEventListener("input", () => search(false));
$("search").addEventListener("keydown", e => { if (e.key === "Enter") search(true); });
function search(next) {
  const q = $("search").value.trim().toLowerCase();
  clearClass("match");
  if (!q) { matches = []; $("search-count").textContent = ""; return; }
  if (!next) {
    const found = new Set();
    for (const [key, n] of Object.entries(P.nodes))
      if (n.name.toLowerCase().includes(q)) { const el = shown(key); if (el) found.add(el); }
    for (const [key, g] of Object.entries(P.groups))
      if (g.name.toLowerCase().includes(q)) { const el = byKey(key); if (el) found.add(el); }
    matches = [...found]; matchAt = 0;
  } else matchAt = (matchAt + 1) % Math.max(matches.length, 1);
  matches.forEach(el => el.classList.add("match"));
  $("search-count").textContent = matches.length ? `${matchAt + 1} of ${matches.length}` : "no match";
  if (matches.length) centre(matches[matchAt], true);
}

// ------------------------------------------------------------------ gradient colours
$("colour").addEventListener("change", paintColours);
function paintColours() {
  const on = $("colour").checked;
  svg.querySelectorAll("g.node[data-node]").forEach(g => {
    const n = P.nodes[g.dataset.node];
    const shape = g.querySelector("polygon, ellipse, path");
    if (!n || !shape) return;
    if (shape.dataset.fill === undefined) shape.dataset.fill = shape.getAttribute("fill") || "none";
    shape.setAttribute("fill", on && n.colour ? n.colour : shape.dataset.fill);
    const dark = on && n.colour && ["#1d91c0", "#225ea8", "#0c2c84"].includes(n.colour);
    g.querySelectorAll("text").forEach(t => {
      if (t.dataset.fill === undefined) t.dataset.fill = t.getAttribute("fill") || "black";
      t.setAttribute("fill", dark ? "white" : t.dataset.fill);
    });
  });
}

// ------------------------------------------------------------------ folding modules
$("fold-all").onclick = () => {
  if (current.id !== "main") { trail = []; openView("main"); return; }
  svg.querySelectorAll("g.cluster[data-module]").forEach(c => {
    const m = c.dataset.module;
    if (![...folded].some(f => m.startsWith(f + "."))) folded.add(m);
  });
  for (const m of [...folded]) if ([...folded].some(f => m !== f && m.startsWith(f + "."))) folded.delete(m);
  applyFolds();
};
$("unfold-all").onclick = () => { folded.clear(); applyFolds(); };
function foldOf(m) { return svg.querySelector(`g.fold[data-node="fold:${CSS.escape(m)}"]`); }
function inFolded(module) {
  return module && [...folded].some(m => module === m || module.startsWith(m + "."));
}
function applyFolds() {
  svg.querySelectorAll("g.fold").forEach(f => f.remove());
  svg.querySelectorAll(".hidden").forEach(el => el.classList.remove("hidden"));
  const hide = new Set();
  for (const [key, n] of Object.entries(P.nodes)) if (inFolded(n.module)) hide.add(key);
  for (const key of hide) {
    for (const suffix of ["", ".op"]) { const el = byKey(key + suffix); if (el) el.classList.add("hidden"); }
  }
  svg.querySelectorAll("g.edge[data-to]").forEach(e => {
    if (hide.has(baseKey(e.dataset.to)) && hide.has(baseKey(e.dataset.from))) e.classList.add("hidden");
  });
  const layer = svg.querySelector("g#graph0") || svg;
  for (const m of folded) {
    const cluster = svg.querySelector(`g.cluster[data-module="${CSS.escape(m)}"]`);
    if (!cluster) continue;
    cluster.querySelectorAll("text").forEach(t => t.classList.add("hidden"));
    const b = cluster.getBBox(), count = [...hide].filter(k => P.nodes[k].module === m ||
      P.nodes[k].module.startsWith(m + ".")).length;
    const g = document.createElementNS("http://www.w3.org/2000/svg", "g");
    g.setAttribute("class", "node fold");
    g.dataset.node = "fold:" + m;
    const label = cluster.querySelector("text") ? cluster.querySelector("text").textContent : m;
    g.innerHTML = `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" rx="8"></rect>
      <text x="${b.x + b.width / 2}" y="${b.y + b.height / 2 - 4}" text-anchor="middle"
        font-size="14" font-family="Helvetica">${esc(label)}</text>
      <text x="${b.x + b.width / 2}" y="${b.y + b.height / 2 + 14}" text-anchor="middle"
        font-size="11" font-family="Helvetica" fill="#555">${count} values folded (click)</text>`;
    layer.appendChild(g);
  }
  if (selected) select(selected, false);
}

// ------------------------------------------------------------------ views
function drawCrumbs() {
  const parts = [...trail, current.id].map((id, i, all) => i === all.length - 1 ?
    esc(viewsById[id].title) : `<a data-view="${esc(id)}" data-depth="${i}">${esc(viewsById[id].title)}</a>`);
  $("crumbs").innerHTML = trail.length ? "view: " + parts.join(" &rsaquo; ") : "";
}
$("crumbs").addEventListener("click", e => {
  const a = e.target.closest("[data-view]");
  if (!a) return;
  trail = trail.slice(0, Number(a.dataset.depth));
  openView(a.dataset.view);
});

// ------------------------------------------------------------------ backward steps
function gradTexts(upTo) {  // the gradient text of each node after `upTo` steps
  const known = {[P.root]: P.steps.length ? P.steps[0].upstream : ""};
  for (let i = 0; i < upTo; i++) for (const s of P.steps[i].sent) known[s.to] = s.total;
  return known;
}
function showStep(k) {
  if (!P.steps || current.id !== "main") return;
  const n = P.steps.length, last = n + 1;
  step = k === null ? last : Math.max(0, Math.min(last, k));
  $("step-slider").max = last;
  $("step-slider").value = step;
  clearClass("focus"); clearClass("receiver"); clearClass("sending"); clearClass("waiting");
  const known = step === last ? null : gradTexts(step);
  svg.querySelectorAll("g.node[data-node]").forEach(g => {
    const t = [...g.querySelectorAll("text")].find(t => /^grad /.test(t.dataset.grad ?? t.textContent));
    if (!t) return;
    if (t.dataset.grad === undefined) t.dataset.grad = t.textContent;
    const key = g.dataset.node;
    if (!known) { t.textContent = t.dataset.grad; return; }
    t.textContent = key in known ? "grad " + known[key] : "grad ?";
    if (!(key in known)) g.classList.add("waiting");
  });
  let text;
  if (step === 0) text = `<b>Start</b>: d${esc(P.nodes[P.root].name)}/d${esc(P.nodes[P.root].name)} = ` +
    `${esc(known[P.root])}. Every other gradient is not known yet.`;
  else if (step === last) text = "<b>Done</b>: every gradient is filled in (what backward() computed).";
  else {
    const s = P.steps[step - 1], node = P.nodes[s.node];
    const focus = [byKey(s.node), byKey(s.node + ".op")].filter(Boolean);
    focus.forEach(el => el.classList.add("focus"));
    const lines = s.sent.map(c => {
      const el = byKey(c.to);
      if (el) el.classList.add("receiver");
      svg.querySelectorAll(`g.edge[data-from="${CSS.escape(c.to)}"][data-to="${CSS.escape(s.node + ".op")}"]`)
        .forEach(e => e.classList.add("sending"));
      return `<li>to ${link(c.to)}: <span class="rule">${esc(c.rule)}</span> = ${esc(c.product)}` +
        (c.first ? "" : ` (total so far ${esc(c.total)})`) + "</li>";
    });
    text = `At ${link(s.node)} (${esc(P.ops[node.fn].op)}): upstream gradient g = ${esc(s.upstream)}; ` +
      `each input gets upstream × local = contribution:<ul>${lines.join("")}</ul>`;
    if (focus.length) keepInView(focus[focus.length - 1]);
  }
  $("step-counter").textContent = step === 0 ? `Start (of ${n} steps)` : step === last ? `Done (${n} steps)` :
    `Step ${step} of ${n}`;
  $("step-text").innerHTML = text;
}
$("step-first").onclick = () => showStep(0);
$("step-back").onclick = () => showStep(step - 1);
$("step-next").onclick = () => showStep(step + 1);
$("step-slider").addEventListener("input", () => showStep(Number($("step-slider").value)));
$("step-text").addEventListener("click", e => {
  const a = e.target.closest("[data-go]");
  if (a) select(a.dataset.go, true);
});
document.addEventListener("keydown", e => {
  if (e.target.tagName === "INPUT" && e.target.type !== "range") return;
  if (!P.steps) return;
  if (e.key === "ArrowRight") { e.preventDefault(); showStep(step + 1); }
  if (e.key === "ArrowLeft") { e.preventDefault(); showStep(step - 1); }
});

// ------------------------------------------------------------------ start
$("colour").checked = P.colour;
$("stats").textContent = `${P.stats.values.toLocaleString()} values, ${P.stats.ops.toLocaleString()} ops` +
  (P.stats.folded ? "; modules folded (click one to open it)" : "");
$("notes").textContent = P.notes.join(" ");
if (P.highlight) $("flagged").innerHTML = `flagged: ${link(P.highlight)}`;
$("flagged").addEventListener("click", e => {
  const a = e.target.closest("[data-go]");
  if (a) select(a.dataset.go, true);
});
openView("main");
window.explorer = {centre, fit, zoom, select, openView, showStep};  // for scripts driving the page
document.body.dataset.ready = "1";
</script>
</body></html>
"""
