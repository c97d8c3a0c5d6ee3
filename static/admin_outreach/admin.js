// Accessibility fixes for the controls django-modeltranslation's tabbed admin adds (jQuery UI tabs).
"use strict";

function labelTranslationControls() {
  const label = document.querySelector('meta[name="outreach:language-switch-label"]');
  const mainSwitch = document.getElementById("modeltranslation-main-switch");
  if (mainSwitch && label && !mainSwitch.hasAttribute("aria-label")) {
    mainSwitch.setAttribute("aria-label", label.content);
  }
  // Each tab is an <li role="tab"> holding a link: a control inside a control. The tab itself
  // takes focus and keys, so the link is made inert (no focus, no clicks, out of the
  // accessibility tree; jQuery UI still reads its address) and the tab carries its name and
  // selects itself when clicked.
  const jq = window.jQuery || (window.django && window.django.jQuery);
  document.querySelectorAll('.ui-tabs-nav li[role="tab"] > a[href]:not([inert])').forEach((link) => {
    const tab = link.parentElement;
    link.setAttribute("inert", "");
    tab.setAttribute("aria-label", link.textContent.trim());
    tab.addEventListener("click", () => {
      const tabs = Array.from(tab.parentElement.querySelectorAll('li[role="tab"]'));
      if (jq) jq(tab).closest(".ui-tabs").tabs("option", "active", tabs.indexOf(tab));
    });
  });
  // Inline tables scroll sideways on a phone: keyboard users must be able to reach them.
  document.querySelectorAll(".inline-group:not([tabindex])").forEach((group) => {
    group.setAttribute("tabindex", "0");
    const heading = group.querySelector("h2");
    if (heading) {
      heading.id = heading.id || `${group.id}-heading`;
      group.setAttribute("role", "region");
      group.setAttribute("aria-labelledby", heading.id);
    }
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

// What the door page keeps on a phone for working without signal (check_in.js) goes at
// logout (also said by the logout's Clear-Site-Data header, which older browsers ignore)
// and once its meeting is over: checked on every staff page.
function clearDoorData() {
  const signedOut = document.querySelector('meta[name="outreach:signed-out"]') !== null;
  const gone = [];
  for (let index = localStorage.length - 1; index >= 0; index -= 1) {
    const name = localStorage.key(index);
    if (!name || !name.startsWith("outreach-door:")) continue;
    let clearAfter = NaN;
    try {
      clearAfter = Date.parse(JSON.parse(localStorage.getItem(name)).clearAfter);
    } catch (error) {
      // Unreadable: cleared below.
    }
    if (signedOut || !(clearAfter > Date.now())) {
      localStorage.removeItem(name);
      gone.push(name.slice("outreach-door:".length));
    }
  }
  if (window.caches) {
    caches.keys().then((names) => {
      for (const name of names) {
        const meeting = name.startsWith("outreach-door-") ? name.slice("outreach-door-".length) : null;
        if (meeting !== null && (signedOut || gone.includes(meeting))) caches.delete(name);
      }
    });
  }
  if (navigator.serviceWorker) {
    navigator.serviceWorker.getRegistrations().then((registrations) => {
      for (const registration of registrations) {
        const match = new URL(registration.scope).pathname.match(/\/(\d+)\/check-in\/$/);
        if (match && (signedOut || gone.includes(match[1]))) registration.unregister();
      }
    });
  }
}
try {
  clearDoorData();
} catch (error) {
  // Storage refused (a private window's settings): nothing was kept either.
}
