// asyncz_like operations dashboard. Polls the REST API and updates the page in place
// (rows keep their buttons, so keyboard focus survives an update). Every change is
// confirmed in a dialog first and sent with the page's CSRF token.
"use strict";

(() => {
  const POLL_MS = 3000;
  const HEALTH_EVERY = 3; // polls
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (selector) => document.querySelector(selector);
  const tbody = $("#tasks tbody");
  let selected = null; // the task whose history is shown (null: all tasks)
  let polls = 0;
  let timer = null;
  let busy = false;

  // -- talking to the API ------------------------------------------------------------

  async function api(path, options = {}) {
    const init = { credentials: "same-origin", ...options, headers: { Accept: "application/json" } };
    if (init.method && init.method !== "GET") {
      init.headers["X-CSRF-Token"] = csrf;
      if (init.body !== undefined) init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, init);
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch (_) {
        data = null;
      }
    }
    if (!response.ok) {
      const error = new Error(describeError(data, response));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function describeError(data, response) {
    if (data && typeof data.detail === "string") return data.detail;
    if (data && Array.isArray(data.detail)) {
      return data.detail.map((item) => `${(item.loc || []).join(".")}: ${item.msg}`).join("; ");
    }
    return `${response.status} ${response.statusText}`;
  }

  const taskPath = (id) => `api/tasks/${encodeURIComponent(id)}`;

  function showError(message) {
    const box = $("#error");
    box.textContent = message;
    box.hidden = !message;
  }

  function announce(message) {
    $("#announce").textContent = message;
  }

  // -- small rendering helpers -----------------------------------------------------

  function badge(value, prefix = "") {
    const span = document.createElement("span");
    const text = value || "none";
    span.className = `badge badge-${String(text).toLowerCase().replace(/[^a-z]/g, "")}`;
    span.textContent = prefix + text;
    return span;
  }

  function timeCell(iso) {
    if (!iso) return document.createTextNode("—");
    const when = new Date(iso);
    const wrapper = document.createElement("span");
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = when.toLocaleString();
    const rel = document.createElement("span");
    rel.className = "rel";
    rel.textContent = relative(when);
    wrapper.append(time, rel);
    return wrapper;
  }

  function relative(when) {
    const seconds = Math.round((when.getTime() - Date.now()) / 1000);
    const abs = Math.abs(seconds);
    const [value, unit] =
      abs < 60 ? [seconds, "second"] : abs < 3600 ? [Math.round(seconds / 60), "minute"]
        : abs < 86400 ? [Math.round(seconds / 3600), "hour"] : [Math.round(seconds / 86400), "day"];
    return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(value, unit);
  }

  function fill(cell, content) {
    cell.replaceChildren(typeof content === "string" ? document.createTextNode(content) : content);
  }

  function button(action, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.action = action;
    b.textContent = label;
    if (action === "delete") b.className = "danger";
    return b;
  }

  // -- tasks ----------------------------------------------------------------------------

  function makeRow(id) {
    const tr = document.createElement("tr");
    tr.dataset.id = id;
    const head = document.createElement("th");
    head.scope = "row";
    head.className = "id";
    tr.append(head);
    for (const name of ["func", "state", "next", "trigger", "last"]) {
      const td = document.createElement("td");
      td.className = name;
      tr.append(td);
    }
    const actions = document.createElement("td");
    actions.className = "actions";
    actions.append(button("toggle", "Pause"), button("run", "Run now"), button("history", "History"),
      button("delete", "Delete"));
    tr.append(actions);
    return tr;
  }

  function updateRow(tr, task) {
    const label = task.name && task.name !== task.callable_name ? `${task.id} (${task.name})` : task.id;
    fill(tr.querySelector(".id"), label);
    fill(tr.querySelector(".func"), task.callable_reference || task.callable_name || "—");
    fill(tr.querySelector(".state"), badge(task.schedule_state));
    fill(tr.querySelector(".next"), timeCell(task.next_run_time));
    fill(tr.querySelector(".trigger"), task.trigger_description || "—");
    fill(tr.querySelector(".last"), task.last_outcome ? badge(task.last_outcome) : "—");
    const paused = task.schedule_state === "paused";
    const toggle = tr.querySelector('[data-action="toggle"]');
    toggle.textContent = paused ? "Resume" : "Pause";
    toggle.dataset.paused = paused ? "1" : "";
    toggle.setAttribute("aria-label", `${paused ? "Resume" : "Pause"} task ${task.id}`);
    tr.querySelector('[data-action="run"]').setAttribute("aria-label", `Run task ${task.id} now`);
    tr.querySelector('[data-action="history"]').setAttribute("aria-label", `Show the run history of task ${task.id}`);
    tr.querySelector('[data-action="delete"]').setAttribute("aria-label", `Delete task ${task.id}`);
    tr.classList.toggle("selected", task.id === selected);
  }

  function renderTasks(data) {
    const rows = new Map([...tbody.children].map((tr) => [tr.dataset.id, tr]));
    const wanted = data.tasks.map((task) => task.id);
    for (const [id, tr] of rows) {
      if (!wanted.includes(id)) tr.remove();
    }
    data.tasks.forEach((task, index) => {
      let tr = rows.get(task.id);
      if (!tr) tr = makeRow(task.id);
      updateRow(tr, task);
      if (tbody.children[index] !== tr) tbody.insertBefore(tr, tbody.children[index] || null);
    });
    $("#empty").hidden = data.tasks.length > 0;
    $("#task-count").textContent = `(${data.tasks.length})`;
    const aside = $("#set-aside");
    aside.hidden = data.set_aside.length === 0;
    $("#set-aside-list").replaceChildren(...data.set_aside.map((item) => {
      const li = document.createElement("li");
      li.textContent = `${item.id} in store ${item.store}: ${item.reason}`;
      return li;
    }));
  }

  async function loadTasks() {
    const params = new URLSearchParams();
    const q = $("#q").value.trim();
    const state = $("#state").value;
    if (q) params.set("q", q);
    if (state) params.set("state", state);
    renderTasks(await api(`api/tasks?${params}`));
  }

  // -- history ----------------------------------------------------------------------

  async function loadHistory() {
    const params = new URLSearchParams({ limit: "20" });
    if (selected) params.set("task_id", selected);
    $("#history-task").textContent = selected ? `of ${selected}` : "(all tasks)";
    $("#history-all").hidden = !selected;
    const note = $("#history-note");
    const body = $("#history tbody");
    try {
      const data = await api(`api/history?${params}`);
      note.hidden = data.runs.length > 0;
      note.textContent = "No runs recorded yet.";
      body.replaceChildren(...data.runs.map(historyRow));
    } catch (error) {
      if (error.status !== 501) throw error;
      note.hidden = false;
      note.textContent = "Run history is not available in this installation.";
      body.replaceChildren();
    }
  }

  function pick(record, ...names) {
    for (const name of names) if (record[name] !== undefined && record[name] !== null) return record[name];
    return null;
  }

  function historyRow(record) {
    const tr = document.createElement("tr");
    const cells = [
      pick(record, "task_id") || "—",
      badge(pick(record, "outcome")),
      timeCell(pick(record, "scheduled_run_time", "scheduled_at")),
      formatDuration(pick(record, "duration", "duration_seconds")),
      String(pick(record, "attempt") ?? "—"),
      [pick(record, "exception_type", "exc_type"), pick(record, "message", "exception_message")]
        .filter(Boolean).join(": ") || "—",
    ];
    for (const content of cells) {
      const td = document.createElement("td");
      fill(td, content);
      tr.append(td);
    }
    return tr;
  }

  function formatDuration(value) {
    if (value === null || value === undefined) return "—";
    const seconds = typeof value === "number" ? value : Number(value);
    return Number.isFinite(seconds) ? `${seconds.toFixed(3)} s` : String(value);
  }

  // -- health -----------------------------------------------------------------------

  async function loadHealth() {
    const target = $("#health");
    const top = $("#health-badge");
    try {
      const report = await api("api/health");
      const status = typeof report.status === "object" && report.status ? report.status.value : report.status;
      top.className = `badge badge-${String(status || "unknown").toLowerCase()}`;
      top.textContent = `Health: ${status || "unknown"}`;
      target.replaceChildren(definitionList(report));
    } catch (error) {
      if (error.status !== 501) throw error;
      top.className = "badge badge-unknown";
      top.textContent = "Health: not available";
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = "Health is not available in this installation.";
      target.replaceChildren(p);
    }
  }

  // A report of any shape: objects as nested definition lists, lists as bullet lists.
  function definitionList(report, depth = 0) {
    const dl = document.createElement("dl");
    for (const [key, value] of Object.entries(report)) {
      if (key === "status" && depth === 0) continue; // shown in the badge
      const dt = document.createElement("dt");
      dt.textContent = key.replace(/_/g, " ");
      const dd = document.createElement("dd");
      dd.append(renderValue(value, depth));
      dl.append(dt, dd);
    }
    return dl;
  }

  function renderValue(value, depth) {
    if (value === null || value === undefined || value === "") return document.createTextNode("—");
    if (Array.isArray(value)) {
      if (value.length === 0) return document.createTextNode("none");
      const ul = document.createElement("ul");
      for (const item of value) {
        const li = document.createElement("li");
        li.append(renderValue(item, depth + 1));
        ul.append(li);
      }
      return ul;
    }
    if (typeof value === "object") return depth < 3 ? definitionList(value, depth + 1) : document.createTextNode(JSON.stringify(value));
    if (typeof value === "number" && !Number.isInteger(value)) return document.createTextNode(value.toFixed(3));
    return document.createTextNode(String(value));
  }

  // -- polling ----------------------------------------------------------------------

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const jobs = [loadTasks(), loadHistory()];
      if (polls % HEALTH_EVERY === 0) jobs.push(loadHealth());
      polls += 1;
      await Promise.all(jobs);
      showError("");
      $("#updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      showError(`Could not update: ${error.message}`);
    } finally {
      busy = false;
    }
  }

  function schedule() {
    clearTimeout(timer);
    if ($("#live").checked) timer = setTimeout(async () => {
      if (!document.hidden && !$("#confirm").open) await refresh();
      schedule();
    }, POLL_MS);
  }

  // -- actions, each confirmed first --------------------------------------------------

  function confirmAction(title, text, okLabel) {
    const dialog = $("#confirm");
    $("#confirm-title").textContent = title;
    $("#confirm-text").textContent = text;
    $("#confirm-ok").textContent = okLabel;
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.showModal();
      $("#confirm-cancel").focus();
    });
  }

  const ACTIONS = {
    pause: { title: "Pause task?", text: (id) => `Task “${id}” will not run until it is resumed.`, ok: "Pause",
      send: (id) => api(`${taskPath(id)}/pause`, { method: "POST" }), done: (id) => `Paused ${id}` },
    resume: { title: "Resume task?", text: (id) => `Task “${id}” runs again from its next fire time.`, ok: "Resume",
      send: (id) => api(`${taskPath(id)}/resume`, { method: "POST" }), done: (id) => `Resumed ${id}` },
    run: { title: "Run task now?", text: (id) => `Task “${id}” runs once now; its schedule stays as it is.`,
      ok: "Run now", send: (id) => api(`${taskPath(id)}/run`, { method: "POST" }), done: (id) => `Started ${id}` },
    delete: { title: "Delete task?", text: (id) => `Task “${id}” is removed from the store. This cannot be undone.`,
      ok: "Delete", send: (id) => api(taskPath(id), { method: "DELETE" }), done: (id) => `Deleted ${id}` },
  };

  async function act(kind, id, source) {
    const action = ACTIONS[kind];
    if (!(await confirmAction(action.title, action.text(id), action.ok))) {
      announce("Cancelled");
      return;
    }
    source.disabled = true;
    try {
      await action.send(id);
      announce(action.done(id));
      showError("");
    } catch (error) {
      showError(`${action.ok} failed: ${error.message}`);
    } finally {
      source.disabled = false;
      if (kind === "delete" && selected === id) selected = null;
      await refresh();
      if (kind === "delete" || !document.body.contains(source)) $("#tasks-heading").focus();
    }
  }

  tbody.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (!target) return;
    const id = target.closest("tr").dataset.id;
    const action = target.dataset.action;
    if (action === "history") {
      selected = id;
      refresh().then(() => $("#history-heading").focus());
    } else if (action === "toggle") {
      act(target.dataset.paused ? "resume" : "pause", id, target);
    } else {
      act(action, id, target);
    }
  });

  $("#history-all").addEventListener("click", () => {
    selected = null;
    refresh();
  });

  let typing = null;
  $("#q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(refresh, 250);
  });
  $("#state").addEventListener("change", refresh);
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  $("#live").addEventListener("change", schedule);

  refresh().then(schedule);
})();
