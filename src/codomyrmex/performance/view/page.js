"use strict";
// codomyrmex-perf view: the trace waterfall and the paged trace list. Data comes from the
// page's #view-data block (parsed on first use); every text is set with textContent.
(function () {
  const ROWS_PER_STEP = 1000;
  const TRACES_PER_PAGE = 50;
  let data = null;
  let byId = null;

  function load() {
    if (data === null) {
      data = JSON.parse(document.getElementById("view-data").textContent);
      byId = new Map(data.traces.map((trace, index) => [trace.id, index]));
    }
    return data;
  }

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function str(index) { return index < 0 ? "" : data.strings[index]; }

  function traceLink(id, label) {
    return el("a", { href: "#trace=" + id, class: "mono" }, label);
  }

  function renderTracePage(page) {
    const d = load();
    const body = document.getElementById("all-traces-body");
    const pages = Math.max(1, Math.ceil(d.traces.length / TRACES_PER_PAGE));
    page = Math.min(Math.max(0, page), pages - 1);
    body.replaceChildren();
    for (const trace of d.traces.slice(page * TRACES_PER_PAGE, (page + 1) * TRACES_PER_PAGE)) {
      const row = el("tr", { "data-trace": trace.id });
      const name = el("td");
      name.append(traceLink(trace.id, str(trace.root)));
      row.append(name, el("td", {}, trace.services), el("td", {}, trace.when),
        el("td", { class: "num" }, trace.dur), el("td", { class: "num" }, String(trace.n)),
        el("td", { class: trace.errors ? "num error-text" : "num" }, String(trace.errors)));
      body.append(row);
    }
    const pager = document.getElementById("all-traces-pager");
    pager.replaceChildren();
    const previous = el("button", { type: "button" }, "← newer");
    previous.disabled = page === 0;
    previous.onclick = () => renderTracePage(page - 1);
    const next = el("button", { type: "button" }, "older →");
    next.disabled = page >= pages - 1;
    next.onclick = () => renderTracePage(page + 1);
    pager.append(previous, el("span", { class: "muted" },
      ` page ${page + 1} of ${pages} (${d.traces.length} traces) `), next);
  }

  function showDetails(trace, index) {
    const s = trace.spans[index];
    const pane = document.getElementById("span-details");
    pane.replaceChildren();
    pane.append(el("h3", {}, str(s[2])));
    const facts = el("table", { class: "facts" });
    const add = (key, value) => {
      const row = el("tr");
      row.append(el("th", {}, key));
      const cell = el("td");
      if (value instanceof Node) cell.append(value); else cell.textContent = value;
      row.append(cell);
      facts.append(row);
    };
    add("duration", s[5]);
    add("starts at", "+" + s[6]);
    add("service", str(s[9]));
    add("status", s[7] ? "ERROR " + str(s[10]) : "unset / ok");
    add("span id", s[0]);
    add("trace id", trace.id);
    const attributes = data.attrs[s[8]] || [];
    for (let i = 0; i < attributes.length; i += 2) {
      const key = str(attributes[i]);
      const value = str(attributes[i + 1]);
      const fn = key === "code.function.name" ? data.functions[value] : undefined;
      if (fn !== undefined) {
        const link = el("a", { href: "#fn-" + fn, class: "mono" }, value);
        link.title = "this function's latency histogram";
        add(key, link);
      } else {
        add(key, value);
      }
    }
    pane.append(facts);
    if (s[11] >= 0) {
      pane.append(el("h3", {}, "events"));
      for (const [name, offset, attrs] of data.events[s[11]]) {
        const block = el("div", { class: "event" });
        block.append(el("strong", {}, str(name) + " "), el("span", { class: "muted" }, "+" + offset));
        const list = data.attrs[attrs] || [];
        for (let i = 0; i < list.length; i += 2) {
          block.append(el("pre", { class: "mono" }, str(list[i]) + ": " + str(list[i + 1])));
        }
        pane.append(block);
      }
    }
  }

  function select(trace, index) {
    const rows = document.getElementById("waterfall-rows");
    for (const node of rows.querySelectorAll(".selected")) node.classList.remove("selected");
    const row = rows.querySelector(`[data-index="${index}"]`);
    if (row) {
      row.classList.add("selected");
      row.scrollIntoView({ block: "center" });
    }
    showDetails(trace, index);
  }

  function appendRows(trace, upTo) {
    const rows = document.getElementById("waterfall-rows");
    const start = rows.childElementCount;
    const end = Math.min(trace.spans.length, Math.max(upTo, start + ROWS_PER_STEP));
    const fragment = document.createDocumentFragment();
    for (let index = start; index < end; index++) {
      const s = trace.spans[index];
      const row = el("div", {
        class: s[7] ? "wf-row error" : "wf-row", "data-index": String(index),
        "data-span": s[0], "data-depth": String(s[1]),
      });
      // Long names lose their start, not their end: "…_workload.parse_order".
      const label = el("div", { class: "wf-name" });
      label.append(el("bdi", {}, str(s[2])));
      label.style.paddingLeft = (4 + Math.min(s[1], 40) * 14) + "px";
      const lane = el("div", { class: "wf-lane" });
      const bar = el("div", { class: "wf-bar" });
      bar.style.left = s[3] + "%";
      bar.style.width = s[4] + "%";
      lane.append(bar);
      row.title = `${str(s[2])} — ${s[5]} at +${s[6]}`;
      row.append(label, lane, el("div", { class: "wf-dur" }, s[5]));
      row.onclick = () => select(trace, index);
      fragment.append(row);
    }
    rows.append(fragment);
    const more = document.getElementById("waterfall-more");
    const left = trace.spans.length - end;
    more.hidden = left <= 0;
    more.textContent = `show ${Math.min(left, ROWS_PER_STEP)} more of ${left} spans`;
    more.onclick = () => appendRows(trace, 0);
  }

  function showTrace(id, spanId) {
    const d = load();
    document.getElementById("index").hidden = true;
    const view = document.getElementById("trace-view");
    view.hidden = false;
    const header = document.getElementById("trace-header");
    const rows = document.getElementById("waterfall-rows");
    rows.replaceChildren();
    document.getElementById("span-details").replaceChildren();
    const position = byId.get(id);
    if (position === undefined) {
      header.replaceChildren(el("h2", {}, "trace " + id),
        el("p", { class: "problems" }, "This trace is not in the telemetry that was read " +
          "(its spans may be in a rotated-away file, or outside --since/--service)."));
      document.getElementById("waterfall-more").hidden = true;
      document.getElementById("waterfall-axis").replaceChildren();
      return;
    }
    const trace = d.traces[position];
    header.replaceChildren(el("h2", {}, str(trace.root)), el("p", { class: "muted" },
      `trace ${trace.id} · ${trace.when} · ${trace.dur} · ${trace.n} spans · ` +
      `${trace.errors} with errors · ${trace.services}`));
    const axis = document.getElementById("waterfall-axis");
    axis.replaceChildren(el("div", { class: "wf-name" }, "span"));
    const ticks = el("div", { class: "wf-lane wf-ticks" });
    trace.ticks.forEach((text, i) => {
      const tick = el("span", {}, text);
      tick.style.left = (i * 25) + "%";
      ticks.append(tick);
    });
    axis.append(ticks, el("div", { class: "wf-dur" }, "duration"));
    let selected = 0;
    if (spanId) {
      const found = trace.spans.findIndex((s) => s[0] === spanId);
      if (found >= 0) selected = found;
    }
    appendRows(trace, selected + 1);
    window.scrollTo(0, 0);
    select(trace, selected);
  }

  function route() {
    const hash = decodeURIComponent(location.hash.slice(1));
    if (hash.startsWith("trace=")) {
      const parameters = new URLSearchParams(hash);
      showTrace(parameters.get("trace"), parameters.get("span"));
      return;
    }
    document.getElementById("trace-view").hidden = true;
    document.getElementById("index").hidden = false;
    if (hash) {
      const target = document.getElementById(hash);
      if (target) target.scrollIntoView();
    }
  }

  window.addEventListener("hashchange", route);
  route();
  setTimeout(() => renderTracePage(0), 0);
})();
