/* crowd's item upload with a progress bar.
   The form posts as it would without script (multipart, with its CSRF token), but
   through XMLHttpRequest so that upload progress events can move the bar; the page
   the server answers with (the items page, with the per-row errors if any) then
   takes the place of this one's main content. Without script the form posts normally. */
(function () {
  "use strict";

  function setStatus(text) {
    var status = document.getElementById("upload-status");
    if (status) { status.textContent = text; }
  }

  function swapMain(html, httpStatus) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) {
      var text = doc.body ? doc.body.textContent.trim().slice(0, 300) : "";
      setStatus("The upload was refused (HTTP " + httpStatus + "). " + text);
      return;
    }
    main.replaceChildren.apply(main, Array.prototype.map.call(fresh.childNodes, function (node) {
      return document.importNode(node, true);
    }));
    var result = document.querySelector("#upload-result .flash, main > .flash");
    if (result) {
      result.setAttribute("tabindex", "-1");
      result.focus();
    }
  }

  function send(form) {
    var bar = document.getElementById("upload-progress");
    var button = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "text/html");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable && bar) {
        var percent = Math.round(100 * event.loaded / event.total);
        bar.value = percent;
        setStatus("Uploading… " + percent + "%");
      }
    });
    xhr.upload.addEventListener("load", function () {
      if (bar) { bar.value = 100; }
      setStatus("Uploaded; importing…");
    });
    xhr.addEventListener("load", function () { swapMain(xhr.responseText, xhr.status); });
    xhr.addEventListener("error", function () {
      setStatus("The upload failed: the server could not be reached. Try again.");
      if (button) { button.disabled = false; }
    });
    if (bar) { bar.hidden = false; bar.value = 0; }
    if (button) { button.disabled = true; }
    setStatus("Uploading…");
    xhr.send(new FormData(form));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "upload-form" || !window.FormData || !window.DOMParser) { return; }
    event.preventDefault();
    send(form);
  });
}());
