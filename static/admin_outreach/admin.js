// Accessibility fixes for the controls django-modeltranslation's tabbed admin adds (jQuery UI tabs).
"use strict";

function labelTranslationControls() {
  const label = document.querySelector('meta[name="outreach:language-switch-label"]');
  const mainSwitch = document.getElementById("modeltranslation-main-switch");
  if (mainSwitch && label && !mainSwitch.hasAttribute("aria-label")) {
    mainSwitch.setAttribute("aria-label", label.content);
  }
  // Each tab is an <li role="tab"> holding a link: a control inside a control. The tab itself
  // takes focus, keys and clicks, so the link needs no address (and is no longer focusable).
  document.querySelectorAll('.ui-tabs-nav li[role="tab"] > a[href]').forEach((link) => {
    link.removeAttribute("href");
  });
  // Autocomplete fields (select2) name their combobox after the chosen value, which is
  // empty on a new form: name it after the field's own label instead.
  document.querySelectorAll("select.admin-autocomplete").forEach((select) => {
    const fieldLabel = document.querySelector(`label[for="${select.id}"]`);
    const combobox = select.parentElement.querySelector('.select2-selection[role="combobox"]');
    if (!fieldLabel || !combobox) return;
    const name = fieldLabel.textContent.replace(/:\s*$/, "").trim();
    combobox.setAttribute("aria-label", name);
    combobox.removeAttribute("aria-labelledby");
    const rendered = combobox.querySelector(".select2-selection__rendered");
    if (rendered) {
      rendered.removeAttribute("role");
      rendered.removeAttribute("aria-readonly");
    }
  });
}

// modeltranslation builds its tabs when the page is ready; fix them as they appear.
new MutationObserver(labelTranslationControls).observe(document.documentElement, {
  childList: true,
  subtree: true,
});
document.addEventListener("DOMContentLoaded", labelTranslationControls);
