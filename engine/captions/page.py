"""The caption page: one self-contained HTML document (no external files, works offline).

The current captions are embedded in the page, so it shows them at once (and a screenshot of
it is meaningful); then it follows `/events` (server-sent events; the browser reconnects on its
own). Each message is the whole board (`CaptionBoard.snapshot()`), so a message dropped for a
slow client loses nothing: the next one carries everything. Lines are keyed by segment id and
updated in place: a partial line becomes its final without the page jumping.

Query parameters: size (font px, default 36), show (original | translation | both), lines
(newest lines shown, default 3), bg (backdrop colour as hex, e.g. 000000a0; default none:
transparent), hold (seconds a final line stays before it fades; 0 = until pushed out), names (0
hides the speaker names).
"""

from __future__ import annotations

import json
from typing import Any

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Dragoman captions</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
html, body { margin: 0; padding: 0; background: transparent; overflow: hidden; }
body {
  font-family: "Noto Sans", "DejaVu Sans", "Segoe UI", Arial, sans-serif;
  font-size: var(--size, 36px); color: #fff; line-height: 1.25;
}
#captions {
  position: fixed; left: 0; right: 0; bottom: 0; box-sizing: border-box;
  display: flex; flex-direction: column; gap: 0.2em; padding: 0.3em 0.6em;
  background: var(--bg, transparent);
}
#captions:empty { display: none; }
.line {
  text-shadow: 0 0 0.12em #000, 0 0 0.12em #000, 0.05em 0.05em 0.1em #000;
  transition: opacity 0.6s;
}
.line.faded { opacity: 0; }
.who { color: var(--c); font-weight: 700; font-size: 0.7em; margin-right: 0.4em; }
.orig { color: var(--c); }
.partial .orig { opacity: 0.8; font-style: italic; }
.tr { color: #fff; font-size: 0.85em; }
.tr::before { content: ""; display: inline-block; width: 0.25em; height: 0.8em;
  margin-right: 0.35em; background: var(--c); vertical-align: -0.05em; }
.hidden { display: none; }
</style>
</head>
<body>
<div id="captions" aria-live="polite"></div>
<script id="initial" type="application/json">__INITIAL__</script>
<script>
"use strict";
(function () {
  const q = new URLSearchParams(location.search);
  const num = (name, dflt, lo, hi) => {
    const v = parseFloat(q.get(name));
    return Number.isFinite(v) ? Math.min(Math.max(v, lo), hi) : dflt;
  };
  const shows = ["original", "translation", "both"];
  const show = shows.includes(q.get("show")) ? q.get("show") : "both";
  const maxLines = Math.round(num("lines", 3, 1, 20));
  const hold = num("hold", 0, 0, 3600);
  const names = q.get("names") !== "0";
  const root = document.documentElement;
  root.style.setProperty("--size", num("size", 36, 8, 200) + "px");
  const bg = q.get("bg");
  if (bg && /^[0-9a-fA-F]{3,8}$/.test(bg)) root.style.setProperty("--bg", "#" + bg);
  const box = document.getElementById("captions");
  const finalSince = new Map();  // segment id -> when this page saw it final (ms)

  function part(el, cls) {
    let node = el.querySelector(":scope > ." + cls);
    if (!node) {
      node = document.createElement("div");
      node.className = cls;
      node.dir = "auto";
      el.appendChild(node);
    }
    return node;
  }

  function fill(node, who, text, lang) {
    const children = [document.createTextNode(text)];
    if (who) {
      const name = document.createElement("span");
      name.className = "who";
      name.textContent = who;
      children.unshift(name);
    }
    node.replaceChildren(...children);
    node.lang = lang || "";
  }

  function render(state) {
    let lines = state.lines.filter(l => show !== "translation" || l.translation);
    lines = lines.slice(-maxLines);
    const keep = new Set(lines.map(l => String(l.id)));
    for (const el of Array.from(box.children)) {
      if (!keep.has(el.dataset.seg)) el.remove();
    }
    const now = Date.now();
    for (const line of lines) {
      const id = String(line.id);
      let el = box.querySelector(':scope > [data-seg="' + id + '"]');
      if (!el) {
        el = document.createElement("div");
        el.dataset.seg = id;
      }
      el.className = "line " + (line.final ? "final" : "partial");
      el.style.setProperty("--c", line.color);
      el.dataset.speaker = line.speaker || "";
      const who = names && line.speaker ? line.speaker : "";
      const orig = part(el, "orig");
      fill(orig, show === "translation" ? "" : who, line.text, line.lang);
      orig.classList.toggle("hidden", show === "translation");
      const tr = part(el, "tr");
      fill(tr, show === "translation" ? who : "", line.translation || "", line.target_lang);
      tr.classList.toggle("hidden", show === "original" || !line.translation);
      if (line.final && !finalSince.has(id)) finalSince.set(id, now);
      box.appendChild(el);  // moves it into order; an element keeps its identity
    }
    for (const id of Array.from(finalSince.keys())) if (!keep.has(id)) finalSince.delete(id);
    fade();
    root.dataset.seq = String(state.seq);
  }

  function fade() {
    if (!hold) return;
    const now = Date.now();
    for (const el of box.children) {
      const since = finalSince.get(el.dataset.seg);
      el.classList.toggle("faded", since !== undefined && now - since > hold * 1000);
    }
  }
  if (hold) setInterval(fade, 500);

  render(JSON.parse(document.getElementById("initial").textContent));
  root.dataset.state = "connecting";
  if (window.EventSource) {
    const events = new EventSource("events");
    events.onopen = () => { root.dataset.state = "live"; };
    events.onerror = () => { root.dataset.state = "offline"; };
    events.onmessage = (msg) => render(JSON.parse(msg.data));
  }
})();
</script>
</body>
</html>
"""


def render_page(snapshot: dict[str, Any]) -> bytes:
    """The page with `snapshot` embedded (escaped so no caption text can end the script)."""
    data = json.dumps(snapshot, ensure_ascii=False).replace("<", "\\u003c")
    return _PAGE.replace("__INITIAL__", data).encode("utf-8")
