// Small progressive enhancements. Every page works without this file.
"use strict";

// "Copy link" buttons: <button data-copy="#id" data-copied="…" hidden> next to the text to copy.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const source = document.querySelector(button.dataset.copy);
  const status = document.getElementById(button.getAttribute("aria-describedby") || "");
  if (!source) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = source.textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard access (an old browser, or a page not served over HTTPS): select the
      // text so a long press or Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return;
    }
    if (status) status.textContent = button.dataset.copied;
  });
});

// The listing's filters: closed on phones (one tap away), open on wide screens.
const filters = document.querySelector("details[data-open-wide]");
if (filters && window.matchMedia("(min-width: 56rem)").matches) filters.open = true;
