// fedicheck dashboard: draws the data embedded in <script id="fedicheck-data"> (see harness/report/html.ts).
// Plain browser JavaScript, no dependencies, no requests. Every string from the results goes into the page
// through textContent or setAttribute on inert attributes and is never parsed as HTML: evidence holds whatever
// the servers under test sent.
(async () => {
  const app = document.getElementById("app");

  /** The embedded data: plain JSON, or gzip + base64 for big runs (inflated without any request). */
  async function load() {
    const el = document.getElementById("fedicheck-data");
    if (el.dataset.encoding !== "gzip+base64") return JSON.parse(el.textContent);
    if (typeof DecompressionStream !== "function") {
      throw new Error(
        "this browser cannot inflate the embedded results (no DecompressionStream); use a current browser",
      );
    }
    const binary = atob(el.textContent.trim());
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  let data;
  try {
    app.textContent = "Loading results…";
    data = await load();
  } catch (error) {
    app.textContent = `Cannot read the embedded results: ${error?.message ?? error}`;
    return;
  }
  const VERDICTS = ["passed", "failed", "errored", "unsupported", "inapplicable", "skipped"];
  const GLYPH = { passed: "✓", failed: "✗", errored: "!", unsupported: "⊘", inapplicable: "–", skipped: "↷" };
  const LEVELS = ["MUST", "SHOULD", "MAY", "IMPLIED"];
  const SIGNING_HEADERS = ["signature", "signature-input", "digest", "content-digest", "authorization"];

  // ---------- DOM helpers ----------

  /** Creates an element. props: class, text, title, on: {event: fn}, data: {k: v}, attrs: {k: v}. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") el.className = value;
        else if (key === "text") el.textContent = String(value);
        else if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
        else if (key === "data") for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
        else if (key === "attrs") for (const [k, v] of Object.entries(value)) el.setAttribute(k, String(v));
        else el[key] = value;
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      if (Array.isArray(child)) append(el, child);
      else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    append(el, children);
    return el;
  }

  function glyph(verdict, extra) {
    return h("span", { class: `g v-${verdict}${extra ? ` ${extra}` : ""}`, text: GLYPH[verdict] });
  }

  function pct(rate) {
    return rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)}%`;
  }

  function duration(ms) {
    if (ms === undefined || ms === null) return "–";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    const m = Math.floor(ms / 60000);
    return `${m} min ${String(Math.round((ms % 60000) / 1000)).padStart(2, "0")} s`;
  }

  function when(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return Number.isNaN(d.getTime())
      ? iso
      : d
          .toISOString()
          .replace("T", " ")
          .replace(/\.\d+Z$/, " UTC");
  }

  function pairText(sender, receiver) {
    return sender === receiver ? sender : `${sender} → ${receiver}`;
  }

  /** Only http(s) links are ever made clickable. */
  function safeUrl(url) {
    try {
      const u = new URL(url);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : undefined;
    } catch {
      return undefined;
    }
  }

  function link(url, text) {
    const href = safeUrl(url);
    if (!href) return h("span", { text: text || url });
    return h("a", { href, text: text || url, attrs: { target: "_blank", rel: "noopener noreferrer" } });
  }

  /** Text with its http(s) URLs made into links. */
  function linkify(text) {
    const out = [];
    let rest = String(text);
    for (;;) {
      const m = /https?:\/\/[^\s<>"')\]]+/.exec(rest);
      if (!m) break;
      if (m.index > 0) out.push(rest.slice(0, m.index));
      out.push(link(m[0]));
      rest = rest.slice(m.index + m[0].length);
    }
    if (rest) out.push(rest);
    return out;
  }

  function copy(text, button) {
    const done = () => {
      const old = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => {
        button.textContent = old;
      }, 1200);
    };
    const fallback = () => {
      const area = h("textarea", { value: text });
      document.body.append(area);
      area.select();
      try {
        document.execCommand("copy");
        done();
      } finally {
        area.remove();
      }
    };
    if (navigator.clipboard && window.isSecureContext)
      navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  }

  // ---------- state in the URL hash ----------

  function readState() {
    const p = new URLSearchParams(location.hash.slice(1));
    const num = (v) => (v === null || v === "" || Number.isNaN(Number(v)) ? undefined : Number(v));
    const run = num(p.get("run"));
    return {
      run: run !== undefined && data.runs[run] ? run : data.selected,
      view: p.get("view") || "matrix",
      suite: p.get("suite") || "",
      impl: p.get("impl") || "",
      level: p.get("level") || "",
      verdicts: (p.get("verdict") || "").split(",").filter((v) => VERDICTS.includes(v)),
      hideKnown: p.get("known") === "hide",
      q: p.get("q") || "",
      cell: num(p.get("cell")),
    };
  }

  function writeState(patch, replace) {
    const next = Object.assign(readState(), patch);
    const p = new URLSearchParams();
    if (next.run !== data.selected) p.set("run", String(next.run));
    if (next.view !== "matrix") p.set("view", next.view);
    if (next.suite) p.set("suite", next.suite);
    if (next.impl) p.set("impl", next.impl);
    if (next.level) p.set("level", next.level);
    if (next.verdicts.length) p.set("verdict", next.verdicts.join(","));
    if (next.hideKnown) p.set("known", "hide");
    if (next.q) p.set("q", next.q);
    if (next.cell !== undefined) p.set("cell", String(next.cell));
    const hash = `#${p.toString()}`;
    if (replace) {
      history.replaceState(null, "", hash === "#" ? location.pathname + location.search : hash);
      render();
    } else if (location.hash !== hash) location.hash = hash;
    else render();
  }

  // ---------- derived lookups per run ----------

  const cache = new Map();
  function model(index) {
    if (cache.has(index)) return cache.get(index);
    const run = data.runs[index];
    const r = run.results;
    const m = {
      run,
      r,
      checks: new Map(r.checks.map((c) => [c.id, c])),
      targets: new Map(r.targets.map((t) => [t.id, t])),
      implOf: new Map(r.targets.map((t) => [t.id, t.implementation])),
    };
    cache.set(index, m);
    return m;
  }

  function isKnown(cell) {
    return cell.expectation !== undefined && cell.expectation.verdict === cell.verdict;
  }

  const RANK = ["failed", "errored", "passed", "skipped", "unsupported", "inapplicable"];
  function summaryIndex(cells, indices, accept) {
    let best;
    let rank = Infinity;
    for (const i of indices) {
      const c = cells[i];
      if (accept && !accept(c)) continue;
      const k = RANK.indexOf(c.verdict);
      if (k < rank) {
        rank = k;
        best = i;
      }
    }
    return best;
  }

  // ---------- page ----------

  let rendered = null; // key of the page last drawn; a change of `cell` alone only redraws the drawer
  let order = []; // cell indices of the visible matrix, row by row, for next/previous in the drawer

  function render() {
    const st = readState();
    const key = JSON.stringify({ ...st, cell: undefined });
    if (key !== rendered) {
      rendered = key;
      drawPage(st);
    }
    drawDrawer(st);
  }

  function drawPage(st) {
    const m = model(st.run);
    const r = m.r;
    const parts = [topbar(st, m)];
    if (r.status !== "completed") {
      parts.push(
        h("div", {
          class: "banner",
          text:
            r.status === "running"
              ? "This run was still going when the report was made: results are partial."
              : "This run was interrupted: results are partial.",
        }),
      );
    }
    parts.push(summary(st, m), tabs(st, m));
    const view = h("main", { class: "view" });
    if (st.view === "impl") view.append(implementationsView(m));
    else if (st.view === "changes" && m.run.diff) view.append(changesView(m));
    else if (st.view === "history" && data.trend) view.append(historyView());
    else view.append(matrixView(st, m));
    parts.push(view);
    app.replaceChildren(...parts);
  }

  function topbar(st, m) {
    const r = m.r;
    const picker =
      data.runs.length > 1
        ? h(
            "select",
            {
              class: "runpick",
              title: "Show another run",
              on: { change: (e) => writeState({ run: Number(e.target.value), cell: undefined }) },
            },
            data.runs.map((run, i) =>
              h("option", {
                value: String(i),
                selected: i === st.run,
                text: `${run.results.runId} · ${when(run.results.startedAt)}`,
              }),
            ),
          )
        : null;
    const wall = r.timing
      ? r.timing.wallMs
      : r.finishedAt
        ? Date.parse(r.finishedAt) - Date.parse(r.startedAt)
        : null;
    return h(
      "header",
      { class: "topbar" },
      h("div", { class: "brand" }, h("span", { class: "mark" }, h("i"), h("i"), h("i"), h("i")), "fedicheck"),
      h("span", { class: "runid", text: r.runId, title: r.command }),
      h("span", { class: `status ${r.status}`, text: r.status }),
      picker,
      h(
        "div",
        { class: "meta" },
        h("span", { text: `started ${when(r.startedAt)}` }),
        h("span", { text: `took ${duration(wall)}` }),
        r.timing ? h("span", { text: `waiting ${duration(r.timing.waitingMs)}` }) : null,
        r.shard ? h("span", { text: `shard ${r.shard.index}/${r.shard.count}` }) : null,
        h("span", { text: `v${r.tool.version}` }),
      ),
    );
  }

  function summary(st, m) {
    const t = m.run.tally;
    const known = m.r.cells.filter((c) => c.verdict === "failed" && isKnown(c)).length;
    const flaky = m.r.cells.filter((c) => c.flaky).length;
    const dist = h("div", { class: "distribution", title: "Share of cells per verdict" });
    for (const v of VERDICTS) {
      if (!t.counts[v]) continue;
      const span = h("span", { class: `fill-${v}`, title: `${t.counts[v]} ${v}` });
      span.style.width = `${(100 * t.counts[v]) / Math.max(1, t.total)}%`;
      dist.append(span);
    }
    const chips = VERDICTS.map((v) =>
      h(
        "button",
        {
          class: `chip${st.verdicts.includes(v) ? " on" : ""}${t.counts[v] ? "" : " zero"}`,
          title: `Show only ${v} cells in the matrix`,
          on: { click: () => toggleVerdict(st, v, true) },
        },
        glyph(v),
        h("span", { class: "n", text: t.counts[v] }),
        h("span", { text: v === "failed" && known ? `failed (${known} known)` : v }),
      ),
    );
    return h(
      "section",
      { class: "summary" },
      h(
        "div",
        { class: "headline" },
        h("span", { class: "big", text: pct(t.rate) }),
        h(
          "span",
          { class: "sub" },
          "passed of decided cells",
          h("br"),
          `${t.total} cells · ${m.r.targets.length} targets${flaky ? ` · ${flaky} flaky` : ""}`,
        ),
      ),
      h("div", { class: "chips" }, chips),
      dist,
    );
  }

  function toggleVerdict(st, v, alone) {
    const on = st.verdicts.includes(v);
    let verdicts;
    if (alone) verdicts = on && st.verdicts.length === 1 ? [] : [v];
    else verdicts = on ? st.verdicts.filter((x) => x !== v) : [...st.verdicts, v];
    writeState({ verdicts, view: "matrix", cell: undefined });
  }

  function tabs(st, m) {
    const tab = (id, label, count, bad) =>
      h(
        "button",
        {
          class: `tab${st.view === id ? " on" : ""}`,
          on: { click: () => writeState({ view: id, cell: undefined }) },
        },
        label,
        count !== undefined ? h("span", { class: `count${bad ? " bad" : ""}`, text: count }) : null,
      );
    const diff = m.run.diff;
    return h(
      "nav",
      { class: "tabs" },
      tab("matrix", "Matrix"),
      tab("impl", "Implementations", m.run.scorecards.length),
      diff
        ? tab(
            "changes",
            "Changes",
            diff.newFailures.length + diff.fixes.length + diff.changed.length,
            diff.newFailures.length > 0,
          )
        : null,
      data.trend ? tab("history", "History", data.trend.runs.length) : null,
    );
  }

  // ---------- matrix ----------

  function matrixView(st, m) {
    const r = m.r;
    const cells = r.cells;
    const pairs = m.run.matrix.pairs;
    const q = st.q.trim().toLowerCase();
    const accept = (c) =>
      (st.verdicts.length === 0 || st.verdicts.includes(c.verdict)) && !(st.hideKnown && isKnown(c));
    const pairOk = pairs.map(
      (p) => !st.impl || m.implOf.get(p.sender) === st.impl || m.implOf.get(p.receiver) === st.impl,
    );
    const filtering = st.verdicts.length > 0 || st.hideKnown;

    // Rows that pass the row filters and hold at least one accepted cell in a visible pair.
    const groups = [];
    const used = pairs.map(() => false);
    let shownRows = 0;
    let totalRows = 0;
    for (const g of m.run.matrix.groups) {
      if (st.suite && g.suite !== st.suite) {
        totalRows += g.rows.length;
        continue;
      }
      const rows = [];
      for (const row of g.rows) {
        totalRows++;
        const check = m.checks.get(row.checkId) || {
          id: row.checkId,
          title: "",
          level: "IMPLIED",
          impact: "",
        };
        if (st.level && check.level !== st.level) continue;
        if (q && !`${check.id} ${check.title}`.toLowerCase().includes(q)) continue;
        const hits = row.cells.map((list, j) => pairOk[j] && list.some((i) => accept(cells[i])));
        const present = row.cells.map((list, j) => pairOk[j] && list.length > 0);
        if (!(filtering ? hits : present).some(Boolean)) continue;
        (filtering ? hits : present).forEach((hit, j) => {
          if (hit) used[j] = true;
        });
        rows.push({ row, check });
      }
      if (rows.length) {
        groups.push({ suite: g.suite, rows });
        shownRows += rows.length;
      }
    }
    const cols = pairs.map((p, j) => ({ p, j })).filter(({ j }) => pairOk[j] && used[j]);

    const toolbar = matrixToolbar(st, m, shownRows, totalRows);
    const legend = h(
      "div",
      { class: "legend" },
      h("span", null, glyph("passed", "flaky"), "flaky (changed on retry)"),
      h("span", null, glyph("failed", "known"), "known (matches the expectations file)"),
      h(
        "span",
        null,
        h("span", { class: "g v-passed" }, "✓", h("span", { class: "multi", text: "2" })),
        "decided by several scenarios",
      ),
      h("span", null, h("span", { class: "none", text: "·" }), "not run on this pair"),
      h("span", {
        class: "muted",
        text: "Click a cell for its evidence; j / k step through the visible cells.",
      }),
    );
    if (!groups.length || !cols.length) {
      order = [];
      return h(
        "div",
        null,
        toolbar,
        h(
          "div",
          { class: "matrix-wrap" },
          h("div", { class: "empty", text: "No cell matches these filters." }),
        ),
      );
    }

    // Header: receivers on the first row (spanning their senders), senders on the second.
    const recvRow = h("tr", { class: "receivers" }, h("th", { class: "corner", rowSpan: 2, text: "Check" }));
    const sendRow = h("tr", { class: "senders" });
    const starts = new Set();
    for (let k = 0; k < cols.length; ) {
      const receiver = cols[k].p.receiver;
      let n = 0;
      while (k + n < cols.length && cols[k + n].p.receiver === receiver) n++;
      const t = m.targets.get(receiver);
      recvRow.append(
        h(
          "th",
          {
            colSpan: n,
            title: t ? `receiver ${receiver}: ${t.implementation} ${t.version} (${t.origin})` : receiver,
          },
          h("span", { class: "muted", text: "→ " }),
          h("span", { class: "to", text: receiver }),
        ),
      );
      starts.add(k);
      k += n;
    }
    cols.forEach(({ p }, k) => {
      sendRow.append(
        h(
          "th",
          { class: starts.has(k) ? "first" : "", title: `${pairText(p.sender, p.receiver)}` },
          h("span", { class: "vert", text: p.sender === p.receiver ? "(alone)" : p.sender }),
        ),
      );
    });

    const body = h("tbody");
    order = [];
    for (const g of groups) {
      const failedInGroup = g.rows.reduce(
        (n, { row }) =>
          n +
          cols.reduce((k, { j }) => k + row.cells[j].filter((i) => cells[i].verdict === "failed").length, 0),
        0,
      );
      body.append(
        h(
          "tr",
          { class: "group" },
          h(
            "th",
            null,
            g.suite,
            h("span", {
              class: "gcount",
              text: `${g.rows.length} check${g.rows.length === 1 ? "" : "s"}${failedInGroup ? ` · ${failedInGroup} failed` : ""}`,
            }),
          ),
          h("td", { colSpan: cols.length }),
        ),
      );
      for (const { row, check } of g.rows) {
        const fails = cols.reduce(
          (k, { j }) => k + row.cells[j].filter((i) => cells[i].verdict === "failed").length,
          0,
        );
        const tr = h(
          "tr",
          { data: { check: check.id } },
          h(
            "th",
            { class: "check", title: `${check.id} ${check.title}\n${check.requirement || ""}` },
            h(
              "div",
              { class: "check-line" },
              h("span", { class: "id", text: check.id }),
              h("span", { class: "title", text: check.title }),
              fails ? h("span", { class: "fails", text: `${fails}✗`, title: `${fails} failed` }) : null,
              h("span", { class: `lvl ${check.level}`, text: check.level }),
            ),
          ),
        );
        cols.forEach(({ j }, k) => {
          const list = row.cells[j];
          const td = h("td", { class: starts.has(k) && k > 0 ? "gstart" : "" });
          if (list.length === 0) {
            if (!filtering) td.append(h("span", { class: "none", text: "·" }));
          } else {
            const anyAccepted = list.some((i) => accept(cells[i]));
            const shown = summaryIndex(cells, list, filtering && anyAccepted ? accept : undefined);
            const c = cells[shown];
            const cls = ["c", `v-${c.verdict}`];
            if (list.some((i) => cells[i].flaky)) cls.push("flaky");
            if (isKnown(c)) cls.push("known");
            if (filtering && !anyAccepted) cls.push("off");
            else order.push(shown);
            const btn = h(
              "button",
              {
                class: cls.join(" "),
                data: { i: shown, v: c.verdict },
                attrs: { "aria-label": `${check.id} ${pairText(c.sender, c.receiver)}: ${c.verdict}` },
                text: GLYPH[c.verdict],
              },
              list.length > 1 ? h("span", { class: "multi", text: list.length }) : null,
            );
            td.append(btn);
          }
          tr.append(td);
        });
        body.append(tr);
      }
    }
    const table = h("table", { class: "matrix" }, h("thead", null, recvRow, sendRow), body);
    table.addEventListener("click", (e) => {
      const b = e.target.closest("button.c");
      if (b) writeState({ cell: Number(b.dataset.i) });
    });
    table.addEventListener("mouseover", (e) => {
      const b = e.target.closest("button.c");
      if (b) showTip(b, m);
    });
    table.addEventListener("mouseout", (e) => {
      if (e.target.closest("button.c")) hideTip();
    });
    table.addEventListener("focusin", (e) => {
      const b = e.target.closest("button.c");
      if (b) showTip(b, m);
    });
    table.addEventListener("focusout", hideTip);
    return h("div", null, toolbar, legend, h("div", { class: "matrix-wrap" }, table));
  }

  function matrixToolbar(st, m, shown, total) {
    const suites = m.run.matrix.groups.map((g) => g.suite);
    const impls = [...new Set(m.r.targets.map((t) => t.implementation))];
    const select = (label, value, options, key) =>
      h(
        "label",
        null,
        label,
        h(
          "select",
          {
            data: { filter: key },
            on: { change: (e) => writeState({ [key]: e.target.value, cell: undefined }) },
          },
          h("option", { value: "", text: "all", selected: value === "" }),
          options.map((o) => h("option", { value: o, text: o, selected: value === o })),
        ),
      );
    let timer;
    const search = h("input", {
      type: "search",
      placeholder: "Search checks  ( / )",
      value: st.q,
      id: "search",
      on: {
        input: (e) => {
          clearTimeout(timer);
          const value = e.target.value;
          timer = setTimeout(() => {
            writeState({ q: value }, true);
            const again = document.getElementById("search");
            if (again) {
              again.focus();
              again.setSelectionRange(value.length, value.length);
            }
          }, 150);
        },
      },
    });
    const vchips = VERDICTS.map((v) =>
      h(
        "button",
        {
          class: `vchip${st.verdicts.includes(v) ? " on" : ""}`,
          data: { verdict: v },
          title: `Toggle ${v}`,
          on: { click: () => toggleVerdict(st, v, false) },
        },
        glyph(v),
        v,
      ),
    );
    const active = st.suite || st.impl || st.level || st.verdicts.length || st.q || st.hideKnown;
    return h(
      "div",
      { class: "toolbar" },
      search,
      select("Suite", st.suite, suites, "suite"),
      select("Implementation", st.impl, impls, "impl"),
      select("Level", st.level, LEVELS, "level"),
      h("span", { class: "sep" }),
      vchips,
      h(
        "label",
        { title: "Hide failures that the expectations files already list" },
        h("input", {
          type: "checkbox",
          checked: st.hideKnown,
          on: { change: (e) => writeState({ hideKnown: e.target.checked, cell: undefined }) },
        }),
        "hide known",
      ),
      active
        ? h("button", {
            class: "btn",
            text: "Reset",
            on: {
              click: () =>
                writeState({ suite: "", impl: "", level: "", verdicts: [], q: "", hideKnown: false }),
            },
          })
        : null,
      h("span", { class: "shown", text: `${shown} of ${total} checks` }),
    );
  }

  // ---------- tooltip ----------

  let tip;
  function showTip(el, m) {
    const c = m.r.cells[Number(el.dataset.i)];
    const check = m.checks.get(c.checkId);
    if (!tip) {
      tip = h("div", { id: "tip" });
      document.body.append(tip);
    }
    const extra = [];
    if (c.flaky) extra.push(`flaky: ${c.attempts} attempts`);
    if (c.expectation)
      extra.push(`${isKnown(c) ? "known" : "expected"} ${c.expectation.verdict}: ${c.expectation.reason}`);
    extra.push("click for evidence");
    const message = c.message.length > 240 ? `${c.message.slice(0, 239)}…` : c.message;
    tip.replaceChildren(
      h("div", { class: "t1", text: `${c.checkId} · ${pairText(c.sender, c.receiver)} · ${c.verdict}` }),
      check ? h("div", { class: "t3", text: check.title }) : null,
      h("div", { class: "t2", text: message }),
      h("div", { class: "t3", text: extra.join(" · ") }),
    );
    tip.hidden = false;
    const box = el.getBoundingClientRect();
    const tw = tip.offsetWidth;
    const th = tip.offsetHeight;
    let x = box.left + box.width / 2 - tw / 2;
    let y = box.bottom + 8;
    if (y + th > window.innerHeight - 8) y = box.top - th - 8;
    x = Math.max(8, Math.min(x, window.innerWidth - tw - 8));
    tip.style.left = `${x}px`;
    tip.style.top = `${y}px`;
  }

  function hideTip() {
    if (tip) tip.hidden = true;
  }

  // ---------- implementations ----------

  function stacked(counts, total, cls) {
    const bar = h("div", { class: cls || "bar" });
    for (const v of VERDICTS) {
      if (!counts[v]) continue;
      const span = h("span", { class: `fill-${v}`, title: `${counts[v]} ${v}` });
      span.style.width = `${(100 * counts[v]) / Math.max(1, total)}%`;
      bar.append(span);
    }
    return bar;
  }

  function bars(list) {
    return h(
      "div",
      { class: "bars" },
      list.map((item) => [
        h("span", { text: item.key }),
        stacked(item.counts, item.total),
        h("span", {
          class: "num",
          text: `${item.counts.passed}/${item.counts.passed + item.counts.failed}`,
          title: `${pct(item.rate)} of decided cells passed (${item.total} cells)`,
        }),
      ]),
    );
  }

  function implementationsView(m) {
    const cards = m.run.scorecards.map((sc) =>
      h(
        "article",
        { class: "card", data: { impl: sc.implementation } },
        h(
          "div",
          { class: "head" },
          h(
            "div",
            null,
            h("h3", { text: sc.implementation }),
            h("div", { class: "muted", text: `${sc.versions.join(", ")} · ${sc.targets.join(", ")}` }),
          ),
          h(
            "div",
            { class: "rate", text: pct(sc.overall.rate) },
            h("small", { text: `${sc.overall.total} cells` }),
          ),
        ),
        stacked(sc.overall.counts, sc.overall.total, "distribution"),
        h(
          "div",
          { class: "sides" },
          h("span", null, "as sender ", h("b", { text: pct(sc.asSender.rate) })),
          h("span", null, "as receiver ", h("b", { text: pct(sc.asReceiver.rate) })),
          h("span", null, "failed ", h("b", { text: sc.overall.counts.failed })),
          h("span", null, "errored ", h("b", { text: sc.overall.counts.errored })),
        ),
        h("h4", { text: "By suite" }),
        bars(sc.bySuite),
        h("h4", { text: "By spec level" }),
        bars(sc.byLevel),
        h("h4", { text: "By interop impact" }),
        bars(sc.byImpact),
        h(
          "div",
          { class: "actions" },
          h("button", {
            class: "btn",
            text: "Show in matrix",
            on: { click: () => writeState({ view: "matrix", impl: sc.implementation }) },
          }),
          " ",
          h("button", {
            class: "btn",
            text: "Its failures",
            on: {
              click: () => writeState({ view: "matrix", impl: sc.implementation, verdicts: ["failed"] }),
            },
          }),
        ),
      ),
    );
    const targets = h(
      "table",
      { class: "plain" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Target", "Implementation", "Version", "Origin", "Runtime", "Capabilities"].map((t) =>
            h("th", { text: t }),
          ),
        ),
      ),
      h(
        "tbody",
        null,
        m.r.targets.map((t) =>
          h(
            "tr",
            null,
            h("td", { class: "mono nowrap", text: t.id }),
            h("td", { text: t.implementation }),
            h("td", { text: t.version }),
            h("td", { class: "mono nowrap", text: t.origin }),
            h("td", { text: t.runtime }),
            h(
              "td",
              null,
              h(
                "div",
                { class: "caps" },
                t.capabilities.map((c) => h("span", { class: "cap", text: c })),
              ),
            ),
          ),
        ),
      ),
    );
    return h(
      "div",
      null,
      cards.length
        ? h("div", { class: "cards" }, cards)
        : h("div", { class: "empty", text: "Only the probe ran." }),
      h("h2", { class: "section-title", text: "Targets" }),
      h("div", { class: "card" }, targets),
      h("p", { class: "muted", text: `Command: ${m.r.command}` }),
    );
  }

  // ---------- changes ----------

  function changeRow(ch, m) {
    const check = m.checks.get(ch.checkId);
    const open = ch.index !== undefined ? () => writeState({ cell: ch.index }) : undefined;
    return h(
      "tr",
      {
        class: open ? "change" : "",
        on: open ? { click: open } : undefined,
        title: open ? "Open this cell" : "Not in this run",
      },
      h(
        "td",
        { class: "trans" },
        ch.before ? glyph(ch.before) : h("span", { class: "muted", text: "new" }),
        h("span", { class: "arrow", text: " → " }),
        ch.after ? glyph(ch.after) : h("span", { class: "muted", text: "gone" }),
      ),
      h("td", { class: "mono nowrap", text: ch.checkId }),
      h("td", { text: check ? check.title : "" }),
      h("td", { class: "mono nowrap", text: pairText(ch.sender, ch.receiver) }),
      h("td", { class: "muted", text: ch.scenarioId }),
    );
  }

  function changesView(m) {
    const d = m.run.diff;
    const block = (title, list, note) =>
      h(
        "section",
        { class: "card changes" },
        h("h3", null, title, h("span", { class: "muted", text: `  ${list.length}` })),
        note ? h("p", { class: "muted", text: note }) : null,
        list.length
          ? h(
              "table",
              { class: "plain" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  ["Verdict", "Check", "Title", "Pair", "Scenario"].map((x) => h("th", { text: x })),
                ),
              ),
              h(
                "tbody",
                null,
                list.map((ch) => changeRow(ch, m)),
              ),
            )
          : h("p", { class: "muted", text: "None." }),
      );
    return h(
      "div",
      { class: "stack" },
      h("p", {
        class: "muted",
        text: `Compared with run ${d.against.runId}, started ${when(d.against.startedAt)}.`,
      }),
      block("New failures", d.newFailures, "Failed in this run, not failed before."),
      block("Fixed", d.fixes, "Failed before, passed now."),
      block("Other changes", d.changed),
    );
  }

  // ---------- history ----------

  function sparkline(rates, runs) {
    const w = 260;
    const hgt = 48;
    const pad = 4;
    const n = rates.length;
    const x = (i) => pad + (n === 1 ? (w - 2 * pad) / 2 : (i * (w - 2 * pad)) / (n - 1));
    const y = (r) => pad + (1 - r) * (hgt - 2 * pad);
    const svg = s("svg", { class: "spark", width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: "img" });
    svg.append(s("line", { class: "grid", x1: pad, x2: w - pad, y1: y(1), y2: y(1) }));
    svg.append(s("line", { class: "grid", x1: pad, x2: w - pad, y1: y(0.5), y2: y(0.5) }));
    let path = "";
    let area = "";
    let first;
    let last;
    rates.forEach((r, i) => {
      if (r === null) return;
      path += `${path ? "L" : "M"}${x(i).toFixed(1)},${y(r).toFixed(1)}`;
      if (first === undefined) first = i;
      last = i;
    });
    if (first !== undefined) {
      area = `${path}L${x(last).toFixed(1)},${y(0)}L${x(first).toFixed(1)},${y(0)}Z`;
      svg.append(s("path", { class: "area", d: area }));
      svg.append(s("path", { class: "line", d: path }));
    }
    rates.forEach((r, i) => {
      if (r === null) return;
      svg.append(
        s(
          "circle",
          { class: "dot", cx: x(i), cy: y(r), r: 2.6 },
          s("title", null, `${runs[i].runId}: ${pct(r)} passed`),
        ),
      );
    });
    return svg;
  }

  function historyView() {
    const t = data.trend;
    const rows = t.series.map((sr) => {
      const known = sr.rates.filter((r) => r !== null);
      const latest = known.length ? known[known.length - 1] : null;
      const delta = known.length > 1 ? latest - known[0] : null;
      return h(
        "tr",
        null,
        h("td", { text: sr.implementation }),
        h("td", null, sparkline(sr.rates, t.runs)),
        h("td", { text: pct(latest) }),
        h("td", {
          class: delta === null ? "muted" : "",
          text: delta === null ? "–" : `${delta >= 0 ? "+" : ""}${Math.round(delta * 100)} pts`,
        }),
      );
    });
    const flakes = data.flakes || [];
    return h(
      "div",
      null,
      h("h2", { class: "section-title", text: `Pass rate per implementation over ${t.runs.length} runs` }),
      h(
        "div",
        { class: "card" },
        h(
          "table",
          { class: "plain" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              ["Implementation", "Trend (oldest → latest)", "Latest", "Change"].map((x) =>
                h("th", { text: x }),
              ),
            ),
          ),
          h("tbody", null, rows),
        ),
      ),
      h("h2", { class: "section-title", text: "Flaky checks" }),
      h(
        "div",
        { class: "card" },
        flakes.length
          ? h(
              "table",
              { class: "plain" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  ["Check", "Title", "Flake rate", "Flaky cells", "Verdict flips"].map((x) =>
                    h("th", { text: x }),
                  ),
                ),
              ),
              h(
                "tbody",
                null,
                flakes.map((f) =>
                  h(
                    "tr",
                    null,
                    h("td", { class: "mono", text: f.checkId }),
                    h("td", { text: f.title }),
                    h("td", { text: pct(f.rate) }),
                    h("td", { text: `${f.flaky} of ${f.cells}` }),
                    h("td", { text: f.flips }),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted", text: "No check was flaky or changed verdict across these runs." }),
      ),
    );
  }

  // ---------- drawer: one cell's evidence ----------

  function drawDrawer(st) {
    const old = document.getElementById("drawer");
    const scrim = document.getElementById("scrim");
    for (const b of document.querySelectorAll("button.c.sel")) b.classList.remove("sel");
    const m = model(st.run);
    const cell = st.cell !== undefined ? m.r.cells[st.cell] : undefined;
    if (!cell) {
      if (old) old.remove();
      if (scrim) scrim.remove();
      document.body.style.overflow = "";
      return;
    }
    hideTip();
    const sel = document.querySelector(`button.c[data-i="${st.cell}"]`);
    if (sel) sel.classList.add("sel");
    const drawer = h(
      "aside",
      { id: "drawer", attrs: { role: "dialog", "aria-label": "Cell details" } },
      detail(st, m, cell),
    );
    if (old) old.replaceWith(drawer);
    else {
      document.body.append(
        h("div", { id: "scrim", on: { click: () => writeState({ cell: undefined }) } }),
        drawer,
      );
    }
    document.body.style.overflow = "hidden";
    drawer.scrollTop = 0;
  }

  function step(st, delta) {
    if (st.cell === undefined || !order.length) return;
    const at = order.indexOf(st.cell);
    const next = at < 0 ? order[0] : order[(at + delta + order.length) % order.length];
    writeState({ cell: next });
  }

  function detail(st, m, cell) {
    const check = m.checks.get(cell.checkId) || {
      id: cell.checkId,
      title: "",
      requirement: "",
      source: "",
      level: "IMPLIED",
      impact: "",
    };
    const sender = m.targets.get(cell.sender);
    const receiver = m.targets.get(cell.receiver);
    const who = (t, id) => (t ? `${t.implementation} ${t.version}` : id);
    const known = isKnown(cell);
    const head = h(
      "div",
      { class: "dhead" },
      h(
        "div",
        { class: "row1" },
        h(
          "span",
          { class: `badge v-${cell.verdict}${known ? " known" : ""}` },
          h("span", { class: `g v-${cell.verdict}`, text: GLYPH[cell.verdict] }),
          cell.verdict,
        ),
        known ? h("span", { class: "badge plain", text: "known (expected)" }) : null,
        cell.flaky ? h("span", { class: "badge warn", text: `flaky · ${cell.attempts} attempts` }) : null,
        h("span", { class: `lvl ${check.level}`, text: check.level }),
        h("span", { class: "impact", text: check.impact }),
        h("span", { class: "grow" }),
        order.length > 1
          ? h("button", {
              class: "btn",
              text: "← Prev",
              title: "Previous cell (k)",
              on: { click: () => step(st, -1) },
            })
          : null,
        order.length > 1
          ? h("button", {
              class: "btn",
              text: "Next →",
              title: "Next cell (j)",
              on: { click: () => step(st, 1) },
            })
          : null,
        h("button", {
          class: "btn",
          text: "Close",
          title: "Close (Esc)",
          on: { click: () => writeState({ cell: undefined }) },
        }),
      ),
      h("h2", null, h("span", { class: "id", text: cell.checkId }), check.title),
      h(
        "div",
        { class: "pair" },
        cell.sender === cell.receiver
          ? [h("b", { text: cell.receiver }), ` (${who(receiver, cell.receiver)})`]
          : [
              h("b", { text: cell.sender }),
              ` (${who(sender, cell.sender)})  →  `,
              h("b", { text: cell.receiver }),
              ` (${who(receiver, cell.receiver)})`,
            ],
        `  ·  scenario ${cell.scenarioId}`,
      ),
    );

    const body = h("div", { class: "dbody" });
    body.append(
      h(
        "section",
        { class: "box" },
        h("h3", { text: "Result" }),
        h("div", { class: "message", text: cell.message }),
        findingsSummary(cell),
      ),
    );

    if (cell.expected !== undefined || cell.observed !== undefined) {
      body.append(
        h(
          "section",
          { class: "box" },
          h("h3", { text: "Expected vs observed" }),
          h(
            "div",
            { class: "eo" },
            h(
              "div",
              { class: "exp" },
              h("div", { class: "lab", text: "Expected" }),
              h("pre", { text: cell.expected ?? "–" }),
            ),
            h(
              "div",
              { class: "obs" },
              h("div", { class: "lab", text: "Observed" }),
              h("pre", { text: cell.observed ?? "–" }),
            ),
          ),
        ),
      );
    }

    body.append(
      h(
        "section",
        { class: "box" },
        h("h3", { text: "Requirement" }),
        h("blockquote", {
          class: "req",
          text: check.requirement || "(no requirement text in the catalogue)",
        }),
        h(
          "div",
          { class: "req-meta" },
          h("span", { class: `lvl ${check.level}`, text: check.level }),
          h("span", { class: "impact", text: `impact ${check.impact}` }),
          h("span", null, "source: ", linkify(check.source || "–")),
        ),
      ),
    );

    if (cell.expectation) {
      body.append(
        h(
          "section",
          { class: "box" },
          h("h3", { text: "Expectation" }),
          h(
            "div",
            null,
            known ? "Matched: " : "Not matched (stale expectation?): ",
            `expected ${cell.expectation.verdict}. ${cell.expectation.reason} `,
            cell.expectation.link ? link(cell.expectation.link) : null,
          ),
        ),
      );
    }

    const copyBtn = h("button", { text: "Copy", title: "Copy the command" });
    copyBtn.addEventListener("click", () => copy(cell.reproduce, copyBtn));
    body.append(
      h(
        "section",
        { class: "box" },
        h("h3", { text: "Reproduce" }),
        h("div", { class: "repro" }, h("code", { text: cell.reproduce, id: "repro" }), copyBtn),
      ),
    );

    body.append(timings(cell));

    // Other results for the same check and pair (several scenarios may decide one check).
    const siblings = m.r.cells
      .map((c, i) => [c, i])
      .filter(
        ([c, i]) =>
          i !== st.cell &&
          c.checkId === cell.checkId &&
          c.sender === cell.sender &&
          c.receiver === cell.receiver,
      );
    if (siblings.length) {
      body.append(
        h(
          "section",
          { class: "box" },
          h("h3", { text: "Other results for this check and pair" }),
          h(
            "div",
            { class: "others" },
            siblings.map(([c, i]) =>
              h(
                "button",
                { class: "btn", on: { click: () => writeState({ cell: i }) } },
                glyph(c.verdict),
                ` ${c.scenarioId}`,
              ),
            ),
          ),
        ),
      );
    }

    if (cell.evidence.length) {
      body.append(h("h3", { class: "section-title", text: `Evidence (${cell.evidence.length})` }));
      cell.evidence.forEach((ev, k) => {
        body.append(evidence(ev, k));
      });
    } else body.append(h("p", { class: "muted", text: "No evidence was recorded for this cell." }));

    return [head, body];
  }

  /** The validator's findings of all payloads, as chips that jump to the highlighted line. */
  function findingsSummary(cell) {
    const items = [];
    cell.evidence.forEach((ev, k) => {
      if (ev.kind !== "payload") return;
      for (const f of ev.findings) items.push({ f, k });
    });
    if (!items.length) return null;
    const order = { error: 0, warning: 1, info: 2 };
    items.sort((a, b) => order[a.f.severity] - order[b.f.severity]);
    return h(
      "div",
      { class: "fsum" },
      h("span", { class: "muted", text: "Validator:" }),
      items.map(({ f, k }) =>
        h(
          "button",
          {
            class: `fchip ${f.severity}`,
            title: `${f.message} (${f.source})`,
            on: {
              click: () => {
                const ev = document.querySelector(`#drawer details.ev[data-index="${k}"]`);
                if (!ev) return;
                ev.open = true;
                const ptr = resolvePointer(cell.evidence[k].document, f.pointer).ptr;
                const line = ev.querySelector(`.ln[data-ptr="${CSS.escape(ptr)}"]`) || ev;
                line.scrollIntoView({ block: "center", behavior: "smooth" });
              },
            },
          },
          h("b", { text: f.ruleId }),
          ` ${f.pointer === "" ? "(document)" : f.pointer}`,
        ),
      ),
    );
  }

  function timings(cell) {
    const work = Math.max(0, cell.durationMs - cell.waitingMs);
    const bar = h("div", { class: "timebar", title: "waiting (amber) and working (blue)" });
    const wait = h("span", { class: "wait" });
    wait.style.width = `${(100 * cell.waitingMs) / Math.max(1, cell.durationMs)}%`;
    const wk = h("span", { class: "work" });
    wk.style.width = `${(100 * work) / Math.max(1, cell.durationMs)}%`;
    bar.append(wait, wk);
    const box = h(
      "section",
      { class: "box" },
      h("h3", { text: "Timings" }),
      h(
        "dl",
        { class: "kv" },
        h("dt", { text: "started" }),
        h("dd", { text: when(cell.startedAt) }),
        h("dt", { text: "duration" }),
        h("dd", {
          text: `${duration(cell.durationMs)} (waiting ${duration(cell.waitingMs)}, working ${duration(work)})`,
        }),
        h("dt", { text: "attempts" }),
        h("dd", { text: cell.attempts }),
      ),
      bar,
      h(
        "div",
        { class: "timekey" },
        h("span", { class: "sw wait" }),
        "waiting on targets",
        h("span", { class: "sw work" }),
        "working",
      ),
    );
    // A waterfall of the HTTP exchanges, placed on the cell's own time line.
    const start = Date.parse(cell.startedAt);
    const exchanges = cell.evidence.filter((e) => e.kind === "http" && !Number.isNaN(Date.parse(e.at)));
    if (exchanges.length && !Number.isNaN(start)) {
      const span = Math.max(
        cell.durationMs,
        ...exchanges.map((e) => Date.parse(e.at) - start + (e.durationMs || 0)),
        1,
      );
      const wf = h("div", { class: "waterfall" });
      for (const e of exchanges) {
        const lane = h("div", { class: "lane" });
        const bit = h("span", {
          title: `${e.request.method || "GET"} ${e.request.url || ""} · ${duration(e.durationMs || 0)}`,
        });
        bit.style.left = `${(100 * Math.max(0, Date.parse(e.at) - start)) / span}%`;
        bit.style.width = `${(100 * (e.durationMs || 0)) / span}%`;
        lane.append(bit);
        wf.append(h("span", { class: "wl", text: e.label, title: e.label }), lane);
      }
      box.append(wf);
    }
    return box;
  }

  function evidence(ev, k) {
    const kinds = {
      http: "HTTP",
      payload: "Payload",
      view: "Driver view",
      log: "Log",
      note: "Note",
      screenshot: "Screenshot",
    };
    const right = [];
    if (ev.kind === "http") {
      if (ev.response && ev.response.status !== undefined) right.push(`${ev.response.status}`);
      if (ev.durationMs !== undefined) right.push(duration(ev.durationMs));
    }
    if (ev.kind === "payload") {
      const errors = ev.findings.filter((f) => f.severity === "error").length;
      right.push(
        ev.findings.length
          ? `${ev.findings.length} finding${ev.findings.length === 1 ? "" : "s"}${errors ? ` (${errors} error${errors === 1 ? "" : "s"})` : ""}`
          : "no findings",
      );
    }
    const open = ev.kind === "payload" ? ev.findings.length > 0 || k < 3 : k < 3;
    const det = h(
      "details",
      { class: "ev", open, data: { kind: ev.kind, index: k } },
      h(
        "summary",
        null,
        h("span", { class: "kind", text: kinds[ev.kind] || ev.kind }),
        h("span", { text: ev.label }),
        h("span", { class: "right", text: right.join(" · ") }),
      ),
    );
    const body = h("div", { class: "evbody" });
    if (ev.kind === "http") body.append(...httpEvidence(ev));
    else if (ev.kind === "payload") body.append(...payloadEvidence(ev));
    else if (ev.kind === "view") body.append(jsonView(ev.view, []));
    else if (ev.kind === "log") body.append(logView(ev.text));
    else if (ev.kind === "note") body.append(h("pre", { class: "text", text: ev.text }));
    else if (ev.kind === "screenshot") body.append(screenshot(ev));
    det.append(body);
    return det;
  }

  /** Header names a signature covers: from `headers="..."` (cavage) or Signature-Input components (RFC 9421). */
  function signedNames(headers) {
    const names = new Set();
    for (const [name, value] of Object.entries(headers || {})) {
      const n = name.toLowerCase();
      if (n === "signature") {
        const m = /headers="([^"]*)"/i.exec(value);
        if (m) for (const x of m[1].split(/\s+/)) if (x) names.add(x.toLowerCase());
      }
      if (n === "signature-input") {
        const m = /\(([^)]*)\)/.exec(value);
        if (m) for (const x of m[1].split(/\s+/)) if (x) names.add(x.replace(/"/g, "").toLowerCase());
      }
    }
    return names;
  }

  function headersTable(headers) {
    const signed = signedNames(headers);
    const rows = Object.entries(headers || {}).map(([name, value]) => {
      const n = name.toLowerCase();
      const isSigned = signed.has(n) || SIGNING_HEADERS.includes(n);
      return h(
        "tr",
        { class: isSigned ? "signed" : "" },
        h("td", { class: "hn" }, name, signed.has(n) ? h("span", { class: "tag", text: "SIGNED" }) : null),
        h("td", { text: value }),
      );
    });
    if (signed.has("(request-target)") || signed.has("@method") || signed.has("@target-uri")) {
      const pseudo = [...signed].filter((x) => x.startsWith("(") || x.startsWith("@"));
      rows.unshift(
        h(
          "tr",
          { class: "signed" },
          h("td", { class: "hn", text: pseudo.join(" ") }, h("span", { class: "tag", text: "SIGNED" })),
          h("td", { class: "muted", text: "(derived from the request line)" }),
        ),
      );
    }
    return rows.length
      ? h("table", { class: "headers" }, h("tbody", null, rows))
      : h("p", { class: "muted", text: "No headers." });
  }

  function bodyView(text) {
    if (text === undefined || text === "") return h("p", { class: "muted", text: "(empty body)" });
    try {
      const parsed = JSON.parse(text);
      if (parsed !== null && typeof parsed === "object") return jsonView(parsed, []);
    } catch {
      // not JSON: shown as text
    }
    return h("pre", { class: "text", text });
  }

  function httpEvidence(ev) {
    const out = [];
    const status = ev.response ? ev.response.status : undefined;
    out.push(
      h(
        "div",
        { class: "reqline" },
        h("span", { class: "method", text: ev.request.method || "GET" }),
        ev.request.url || "",
        "  ",
        status !== undefined
          ? h("span", { class: `http-status ${status < 400 ? "ok" : "bad"}`, text: String(status) })
          : h("span", { class: "muted", text: "no response" }),
        h("span", {
          class: "muted",
          text: `  at ${when(ev.at)}${ev.durationMs !== undefined ? `, ${duration(ev.durationMs)}` : ""}`,
        }),
      ),
    );
    if (ev.signature) {
      const sg = ev.signature;
      out.push(
        h(
          "div",
          { class: `sig ${sg.ok ? "ok" : "bad"}` },
          h("b", { text: sg.ok ? "Signature verified" : "Signature NOT verified" }),
          sg.scheme ? ` · ${sg.scheme}` : "",
          sg.keyId ? ` · keyId ${sg.keyId}` : "",
          sg.reason ? ` · ${sg.reason}` : "",
        ),
      );
    }
    out.push(
      h("div", null, h("div", { class: "sub-h", text: "Request headers" }), headersTable(ev.request.headers)),
    );
    if (ev.request.body !== undefined)
      out.push(h("div", null, h("div", { class: "sub-h", text: "Request body" }), bodyView(ev.request.body)));
    if (ev.response) {
      out.push(
        h(
          "div",
          null,
          h("div", { class: "sub-h", text: "Response headers" }),
          headersTable(ev.response.headers),
        ),
      );
      out.push(
        h("div", null, h("div", { class: "sub-h", text: "Response body" }), bodyView(ev.response.body)),
      );
    }
    return out;
  }

  function payloadEvidence(ev) {
    const view = jsonView(ev.document, ev.findings);
    const out = [];
    if (ev.findings.length) {
      out.push(
        h(
          "div",
          { class: "findings" },
          ev.findings.map((f) =>
            h(
              "div",
              {
                class: "finding",
                title: "Show in the document",
                on: {
                  click: () => {
                    const line = view.querySelector(
                      `.ln[data-ptr="${CSS.escape(resolvePointer(ev.document, f.pointer).ptr)}"]`,
                    );
                    if (line) {
                      line.scrollIntoView({ block: "center", behavior: "smooth" });
                      line.classList.remove("flash");
                      void line.offsetWidth;
                      line.classList.add("flash");
                    }
                  },
                },
              },
              h("span", { class: `sev ${f.severity}`, text: f.severity }),
              h("span", { class: "mono", text: f.ruleId }),
              h("span", { class: "ptr", text: f.pointer === "" ? "(document)" : f.pointer }),
              h(
                "span",
                null,
                f.message,
                h("span", { class: "src", text: `${f.level} · ${f.impact} · ${f.source}` }),
              ),
            ),
          ),
        ),
      );
    }
    out.push(view);
    return out;
  }

  function logView(text) {
    const pre = h("pre", { class: "text" });
    for (const line of String(text).split("\n")) {
      pre.append(
        /\b(error|warn|fail|exception|refused|denied)/i.test(line)
          ? h("span", { class: "warnline", text: line })
          : `${line}\n`,
      );
    }
    return pre;
  }

  function screenshot(ev) {
    // Only a plain relative path (next to the report) is shown as an image: never a URL or an absolute path.
    const path = String(ev.path);
    const relative =
      !/^[a-z][a-z0-9+.-]*:/i.test(path) &&
      !path.startsWith("/") &&
      !path.startsWith("\\") &&
      !path.includes("..");
    if (!relative) return h("p", null, "Saved at ", h("code", { text: path }));
    return h(
      "div",
      { class: "shot" },
      h("img", { src: path, alt: ev.label, loading: "lazy" }),
      h("p", { class: "muted" }, "File: ", h("code", { text: path })),
    );
  }

  // ---------- JSON viewer with findings ----------

  function escapeToken(k) {
    return String(k).replace(/~/g, "~0").replace(/\//g, "~1");
  }

  /** The deepest existing node on a JSON pointer's path; exact is false when the pointer goes further. */
  function resolvePointer(doc, pointer) {
    if (pointer === "" || pointer === "/") return { ptr: "", exact: pointer === "" };
    const parts = pointer
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    let node = doc;
    let ptr = "";
    for (const part of parts) {
      if (node !== null && typeof node === "object" && Object.hasOwn(node, part)) {
        node = node[part];
        ptr += `/${escapeToken(part)}`;
      } else return { ptr, exact: false };
    }
    return { ptr, exact: true };
  }

  const SEVERITY = ["error", "warning", "info"];
  function jsonView(value, findings) {
    const byPtr = new Map();
    for (const f of findings || []) {
      const at = resolvePointer(value, f.pointer);
      if (!byPtr.has(at.ptr)) byPtr.set(at.ptr, []);
      byPtr.get(at.ptr).push({ f, exact: at.exact });
    }
    const root = h("div", { class: "json" });
    const line = (indent, parts, ptr) => {
      const el = h("div", { class: "ln" });
      el.style.paddingLeft = `${44 + indent * 16}px`;
      for (const [cls, text] of parts) el.append(cls ? h("span", { class: cls, text }) : text);
      if (ptr !== undefined) {
        el.dataset.ptr = ptr;
        const notes = byPtr.get(ptr);
        if (notes) {
          const worst = SEVERITY.find((sv) => notes.some((n) => n.f.severity === sv)) || "info";
          el.classList.add(`hl-${worst}`);
          root.append(el);
          for (const { f, exact } of notes) {
            const note = h(
              "div",
              { class: `note ${f.severity}` },
              h("span", { class: "rid", text: f.ruleId }),
              exact ? "" : `${f.pointer} is missing: `,
              f.message,
            );
            note.style.marginLeft = `${44 + indent * 16}px`;
            root.append(note);
          }
          return;
        }
      }
      root.append(el);
    };
    const walk = (v, ptr, indent, key, comma) => {
      const keyParts =
        key === undefined
          ? []
          : [
              ["k", JSON.stringify(key)],
              ["p", ": "],
            ];
      const tail = comma ? [["p", ","]] : [];
      if (v !== null && typeof v === "object") {
        const isArray = Array.isArray(v);
        const entries = isArray ? v.map((x, i) => [i, x]) : Object.entries(v);
        const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
        if (!entries.length) {
          line(indent, [...keyParts, ["p", open + close], ...tail], ptr);
          return;
        }
        line(indent, [...keyParts, ["p", open]], ptr);
        entries.forEach(([k, x], i) => {
          walk(x, `${ptr}/${escapeToken(k)}`, indent + 1, isArray ? undefined : k, i < entries.length - 1);
        });
        line(indent, [["p", close], ...tail]);
      } else {
        const cls = v === null ? "n" : typeof v === "string" ? "s" : typeof v === "number" ? "num" : "b";
        line(indent, [...keyParts, [cls, JSON.stringify(v)], ...tail], ptr);
      }
    };
    walk(value, "", 0, undefined, false);
    return root;
  }

  // ---------- keyboard ----------

  document.addEventListener("keydown", (e) => {
    const st = readState();
    const typing =
      e.target instanceof HTMLInputElement ||
      e.target instanceof HTMLSelectElement ||
      e.target instanceof HTMLTextAreaElement;
    if (e.key === "Escape" && st.cell !== undefined) writeState({ cell: undefined });
    else if (typing) return;
    else if (e.key === "/" && st.view === "matrix") {
      const search = document.getElementById("search");
      if (search) {
        e.preventDefault();
        search.focus();
      }
    } else if ((e.key === "j" || e.key === "ArrowRight") && st.cell !== undefined) step(st, 1);
    else if ((e.key === "k" || e.key === "ArrowLeft") && st.cell !== undefined) step(st, -1);
  });

  window.addEventListener("hashchange", render);
  render();
})();
