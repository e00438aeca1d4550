// The review page's keys: 1-9 resolve with that label, p ticks "promote to gold",
// n goes to the note (Esc leaves it), s skips. Every action is a plain form post,
// so the page works the same without this script, only without the keys.
"use strict";
(() => {
  document.documentElement.classList.add("js");  // shows the key hints (work.css .js-only)
  const form = document.getElementById("resolve-form");
  const heading = document.getElementById("review-item-title");
  const note = document.getElementById("note");
  const promote = document.getElementById("promote");
  const skip = document.getElementById("skip");
  let sent = false;

  // Land on the item itself (a screen reader reads its name, keys work at once),
  // or on the note when it was what the server refused.
  if (note && document.querySelector(".field-error")) {
    note.focus();
  } else if (heading) {
    heading.focus({ preventScroll: true });
  }

  const typing = (element) => element instanceof HTMLElement && (element.isContentEditable
    || element.tagName === "TEXTAREA" || element.tagName === "SELECT"
    || (element.tagName === "INPUT" && element.type !== "checkbox"));

  document.addEventListener("submit", () => { sent = true; });
  window.addEventListener("pageshow", () => { sent = false; });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") {
        event.preventDefault();
        event.target.blur();
        if (heading) heading.focus({ preventScroll: true });
      }
      return;
    }
    if (!form || sent) {
      return;
    }
    const key = event.key.toLowerCase();
    if (/^[1-9]$/.test(key)) {
      const button = form.querySelector(`button[data-key="${key}"]`);
      if (button) {
        event.preventDefault();
        button.click();
      }
    } else if (key === "p" && promote) {
      event.preventDefault();
      promote.checked = !promote.checked;
      promote.focus();
    } else if (key === "n" && note) {
      event.preventDefault();
      note.focus();
    } else if (key === "s" && skip) {
      event.preventDefault();
      skip.click();
    }
  });
})();
