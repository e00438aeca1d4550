// The worker's task page without page loads: answers go to the JSON API with the
// browser session (the CSRF token in X-CSRFToken), then `next` reserves the following
// item and the server renders it (/work/<id>/task) into the page. Every item takes
// the same requests in the same order, gold or not. Without this script the answer
// form posts and the page reloads.
"use strict";
(() => {
  const root = document.getElementById("work");
  if (!root) return;
  document.documentElement.classList.add("js");
  const project = root.dataset.project;
  const allowUndo = root.dataset.allowUndo === "true";
  const area = document.getElementById("task-area");
  const errorBox = document.getElementById("work-error");
  const undoBar = document.getElementById("undo-bar");
  const undoText = document.getElementById("undo-text");
  const undoButton = document.getElementById("undo-button");
  let shownAt = performance.now();
  let deadline = null;
  let busy = false;
  let waiting = null; // what Enter does now: load the next item after feedback or expiry
  let undoable = null; // {assignment, label} of the last answer, while it may be undone
  let shownState = null; // the worker's state the page shows

  const task = () => document.getElementById("task");
  const form = () => document.getElementById("answer-form");
  const labelButtons = () => Array.from(document.querySelectorAll("#answer-form button[name=label]"));

  function say(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  async function api(method, path, body) {
    const headers = {"Accept": "application/json", "X-CSRFToken": task().dataset.csrf};
    const init = {method, headers, credentials: "same-origin"};
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`/api/v1${path}`, init);
    let json = null;
    if (response.status !== 204) {
      try { json = await response.json(); } catch (_) { json = null; }
    }
    return {status: response.status, json};
  }

  function refusal(result) {
    return (result.json && result.json.error && result.json.error.message) || `error ${result.status}`;
  }

  // Put the server-rendered fragment for the worker's held lease (or their state) in place.
  async function render(assignment) {
    const params = new URLSearchParams({since: task().dataset.state});
    if (assignment) params.set("assignment", assignment);
    const response = await fetch(`/work/${project}/task?${params}`, {credentials: "same-origin", headers: {"Accept": "text/html", "X-Crowd-Fragment": "1"}});
    if (response.redirected || !response.ok) {
      throw new Error(response.redirected ? "You are logged out: reload the page to log in again."
        : `This page could not be loaded (error ${response.status}): reload the page.`);
    }
    area.innerHTML = await response.text();
    started();
  }

  function started() {
    shownAt = performance.now();
    waiting = null;
    const lease = document.getElementById("lease");
    deadline = lease ? performance.now() + Number(lease.dataset.seconds) * 1000 : null;
    tick();
    const state = task().dataset.state;
    const guidelines = document.getElementById("guidelines");
    if (guidelines && state !== shownState && ["qualification", "retraining"].includes(state)) {
      guidelines.open = true; // open on entering a round; the worker may close them (g)
    }
    shownState = state;
    task().focus({preventScroll: true});
  }

  async function next() {
    busy = true;
    try {
      const offer = await api("POST", `/projects/${project}/next`);
      if (offer.status !== 200 && offer.status !== 204 && offer.status !== 403) throw new Error(refusal(offer));
      await render(offer.status === 200 ? offer.json.assignment_id : null);
      say("");
      showUndo();
    } catch (error) {
      say(error.message);
    } finally {
      busy = false;
    }
  }

  async function answer(label) {
    if (busy || waiting || !form()) return;
    busy = true;
    const assignment = form().elements.assignment_id.value;
    const mode = task().dataset.mode;
    const duration = Math.round(performance.now() - shownAt);
    try {
      let result = await api("POST", `/assignments/${assignment}/answer`, {label, duration_ms: duration});
      if (result.status === 401) { // a CSRF token over its time limit: a fresh fragment brings one
        await render(assignment);
        result = await api("POST", `/assignments/${assignment}/answer`, {label, duration_ms: duration});
      }
      if (result.status === 200 && result.json.feedback) {
        undoable = null;
        showFeedback(label, result.json.feedback);
        busy = false;
        return;
      }
      if (result.status === 200) {
        undoable = allowUndo && mode === "work" ? {assignment, label} : null;
        busy = false;
        await next();
        return;
      }
      if (result.status === 410 || result.status === 409) {
        undoable = null;
        stop(refusal(result) + ".");
        busy = false;
        return;
      }
      throw new Error(refusal(result));
    } catch (error) {
      say(error.message);
      busy = false;
    }
  }

  // Feedback on the answered item itself; Enter (or the Next button) moves on.
  function showFeedback(label, feedback) {
    for (const button of labelButtons()) {
      button.disabled = true;
      if (button.value === label) button.classList.add("chosen");
      if (button.value === feedback.expected) button.classList.add("expected");
    }
    const box = document.getElementById("feedback");
    box.className = `feedback ${feedback.correct ? "correct" : "wrong"}`;
    box.textContent = feedback.correct ? "Correct!"
      : `Not quite: you answered “${label}”; the expected answer was “${feedback.expected}”.`;
    box.hidden = false;
    const lease = document.getElementById("lease");
    if (lease) lease.hidden = true; // answered: no time is running any more
    const answered = document.querySelector("#progress b");
    if (answered) answered.textContent = String(Number(answered.textContent) + 1);
    offerNext();
  }

  function offerNext() {
    waiting = next;
    deadline = null;
    const row = document.getElementById("next-row");
    if (row) {
      row.hidden = false;
      document.getElementById("next-button").focus();
    }
  }

  // The item can no longer be answered (its hold ran out, or the server refused it).
  function stop(message) {
    for (const button of labelButtons()) button.disabled = true;
    const lease = document.getElementById("lease");
    if (lease) {
      lease.textContent = message;
      lease.classList.add("expired");
    }
    offerNext();
  }

  function tick() {
    if (deadline === null) return;
    const lease = document.getElementById("lease");
    const left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
    if (!lease) return;
    if (left === 0) {
      deadline = null;
      stop("Time ran out: this item is no longer held for you and may go to someone else. Take the next one.");
      return;
    }
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    lease.textContent = `Time left to answer this item: ${minutes}:${seconds}`;
    lease.classList.toggle("soon", left <= 30);
  }
  setInterval(tick, 1000);

  function showUndo() {
    undoBar.hidden = !undoable;
    if (undoable) {
      undoText.textContent = `Previous item answered “${undoable.label}”.`;
      undoButton.hidden = false;
    }
  }

  async function undo() {
    if (!undoable || busy) return;
    busy = true;
    const {assignment} = undoable;
    try {
      const result = await api("POST", `/assignments/${assignment}/undo`);
      undoable = null;
      if (result.status !== 200) {
        undoText.textContent = `Cannot undo: ${refusal(result)}.`;
        undoButton.hidden = true;
        return;
      }
      await render(assignment);
      undoBar.hidden = true;
    } catch (error) {
      say(error.message);
    } finally {
      busy = false;
    }
  }

  area.addEventListener("submit", (event) => {
    event.preventDefault();
    if (event.submitter && event.submitter.name === "label") answer(event.submitter.value);
  });
  area.addEventListener("click", (event) => {
    if (event.target.closest("#next-button") && waiting && !busy) waiting();
  });
  undoButton.addEventListener("click", undo);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "Enter") {
      if (target.closest("button, a, summary")) return; // the focused control acts itself
      if (waiting && !busy) { event.preventDefault(); waiting(); }
      return;
    }
    if (event.key === "g") {
      const guidelines = document.getElementById("guidelines");
      if (guidelines) guidelines.open = !guidelines.open;
      return;
    }
    if (event.key === "u") { if (!undoBar.hidden) undo(); return; }
    const button = labelButtons().find((b) => b.dataset.key === event.key);
    if (button && !button.disabled) {
      event.preventDefault();
      answer(button.value);
    }
  });

  started();
})();
