// The console's filing form: a second press of "File the request" while the first is
// on its way would file the request twice, so the form is sent once. Without this
// script the form works the same (only a double click is no longer caught).
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("filing")) {
    return;
  }
  var submitter = event.submitter;
  if (submitter && submitter.name === "more") {
    return; // "add more rows" without htmx: nothing is filed
  }
  if (form.dataset.sent === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.setAttribute("aria-busy", "true");
});
// Coming back to the page (the browser's back button) allows sending it again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form.filing").forEach(function (form) {
    delete form.dataset.sent;
    form.removeAttribute("aria-busy");
  });
});
