// The console's progressive enhancement, on top of htmx (templates/includes/htmx_head.html).
// Every page, filter and action works without this file: forms keep their method and action,
// links their href. With it, a filter, a pager link or a triage action fetches the next page and
// swaps its <main> in place (the URL follows, so Back, bookmarks and "copy link" keep working).
// What a whole-page load gives for free and a swap does not, this file gives back:
//   - the address carries only the filters in use;
//   - focus stays on the control the person was using (or moves to the new content);
//   - screen readers hear what changed (the entry count, or the page heading);
//   - the content is marked busy while it loads;
//   - when the request cannot be sent (network down), the browser does the normal navigation.
(function () {
  "use strict";

  var kept = null; // {form: data-testid, name: control name} of the focused control, if any

  function main() {
    return document.getElementById("main");
  }

  function announce(root) {
    var status = document.getElementById("live-status");
    if (!status || !root) {
      return;
    }
    var source = root.querySelector("[data-testid='log-count']") || root.querySelector("h1");
    var text = source ? source.textContent.replace(/\s+/g, " ").trim() : "";
    status.textContent = "";
    // A fresh text node on the next frame, so the same message twice is announced twice.
    window.requestAnimationFrame(function () {
      status.textContent = text;
    });
  }

  // A filter's empty fields are left out of the address (…?outcome=failure, not …?address=&ip=&…):
  // the same page, a URL worth bookmarking or pasting into a ticket.
  document.addEventListener("htmx:configRequest", function (event) {
    var data = event.detail.formData;
    if (!event.detail.useUrlParams || !data) {
      return;
    }
    var empty = [];
    data.forEach(function (value, key) {
      if (value === "") {
        empty.push(key);
      }
    });
    empty.forEach(function (key) {
      data.delete(key);
    });
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var area = main();
    if (area) {
      area.setAttribute("aria-busy", "true");
    }
  });

  document.addEventListener("htmx:afterRequest", function () {
    var area = main();
    if (area) {
      area.removeAttribute("aria-busy");
    }
  });

  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    var form = active && active.form;
    kept = null;
    if (form && form.dataset.testid && active.name) {
      kept = { form: form.dataset.testid, name: active.name };
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    var area = main();
    if (!area) {
      return;
    }
    var target = null;
    if (kept) {
      var form = area.querySelector("form[data-testid='" + kept.form + "']");
      target = form ? form.elements.namedItem(kept.name) : null;
      if (target && typeof target.focus !== "function") {
        target = null; // a radio group: no single control to return to
      }
    }
    kept = null;
    if (target) {
      target.focus({ preventScroll: true });
    } else {
      area.focus({ preventScroll: true });
    }
    announce(area);
  });

  // The request could not be sent (server unreachable, connection reset): do what the browser
  // would have done without JavaScript, so the person sees the browser's own error or the page.
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail.elt;
    if (elt instanceof HTMLFormElement) {
      HTMLFormElement.prototype.submit.call(elt);
    } else if (elt instanceof HTMLAnchorElement) {
      window.location.assign(elt.href);
    } else if (elt && elt.form) {
      HTMLFormElement.prototype.submit.call(elt.form);
    }
  });
})();
