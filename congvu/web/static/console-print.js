// The console's print buttons (hand-over sheets of one-time passwords): shown only when
// JavaScript runs; without it the page says to use the browser's own Print.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
