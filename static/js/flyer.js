// The flyer's "Print" button; without JavaScript, the browser's own Print works the same.
"use strict";
document.querySelectorAll("button[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
