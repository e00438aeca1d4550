// The answer form reports how long the worker looked at the item before answering.
"use strict";
const started = Date.now();
document.getElementById("answer-form").addEventListener("submit", () => {
  document.querySelector("input[name=duration_ms]").value = String(Date.now() - started);
});
