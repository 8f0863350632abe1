// oauthdesk: the few behaviours that need a script. Loaded with defer from
// /assets (the CSP allows only 'self' scripts: no inline code here or in
// the pages). Every feature degrades: without this file the menu stays
// open, copy buttons stay hidden and every scope stays listed.
(function () {
  "use strict";

  // Collapsing header menu on narrow screens.
  function initMenu() {
    var toggle = document.querySelector(".nav-toggle");
    var menu = document.getElementById("site-menu");
    if (!toggle || !menu) return;
    document.documentElement.classList.add("js-menu");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    });
  }

  // Copy buttons: <button data-copy="#id"> copies the text of #id.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "copy-scratch";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function initCopy(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (btn) {
      if (btn.dataset.copyReady) return;
      btn.dataset.copyReady = "1";
      btn.hidden = false;
      var label = btn.textContent;
      btn.addEventListener("click", function () {
        var src = document.querySelector(btn.dataset.copy);
        if (!src) return;
        copyText(src.textContent.trim()).then(function () {
          btn.textContent = "Copied";
          btn.dataset.copied = "1";
        }, function () {
          btn.textContent = "Select and copy";
        });
        setTimeout(function () { btn.textContent = label; delete btn.dataset.copied; }, 2000);
      });
    });
  }

  // Scope picker filter: hides the scopes that do not match and opens the
  // groups that hold a match.
  function initScopeFilter(root) {
    root.querySelectorAll("input.scope-filter").forEach(function (input) {
      if (input.dataset.ready) return;
      input.dataset.ready = "1";
      var box = input.closest("[data-scope-picker]");
      if (!box) return;
      input.closest("label").hidden = false;
      var count = box.querySelector("[data-scope-filter-count]");
      // Enter filters; it must not submit the form around the picker.
      input.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.keyCode === 13) e.preventDefault();
      });
      var form = input.form;
      if (form) {
        form.addEventListener("submit", function (e) {
          if (document.activeElement === input) e.preventDefault();
        });
      }
      input.addEventListener("input", function () {
        var q = input.value.trim().toLowerCase();
        var shown = 0;
        box.querySelectorAll("details").forEach(function (group) {
          var any = false;
          group.querySelectorAll(".scope-option").forEach(function (opt) {
            var hit = q === "" || opt.textContent.toLowerCase().indexOf(q) >= 0 ||
              group.querySelector("summary").textContent.toLowerCase().indexOf(q) >= 0;
            opt.hidden = !hit;
            if (hit) { any = true; shown++; }
          });
          group.hidden = !any;
          if (q !== "") {
            if (!group.dataset.wasOpen) group.dataset.wasOpen = group.open ? "1" : "0";
            group.open = any;
          } else if (group.dataset.wasOpen) {
            group.open = group.dataset.wasOpen === "1" || !!group.querySelector("input:checked");
            delete group.dataset.wasOpen;
          }
        });
        if (count) count.textContent = q === "" ? "" : shown + (shown === 1 ? " scope matches" : " scopes match");
      });
    });
  }

  // columnName is a heading's plain text: without its sort marks and
  // their spoken words ("App", not "App ▲ (A to Z)").
  function columnName(th) {
    var copy = th.cloneNode(true);
    copy.querySelectorAll('[aria-hidden="true"], .visually-hidden').forEach(function (el) { el.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  // Table cells learn their column's name (data-label), which the phone
  // layout shows before each value when a table becomes cards.
  function labelCells(root) {
    root.querySelectorAll("table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) return;
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var i = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          var th = heads[i];
          var label = th ? columnName(th) : "";
          if (label && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", label);
          i += cell.colSpan || 1;
        });
      });
    });
  }

  // Tabs (WAI-ARIA tabs pattern): a [role=tablist] of links; a tab with
  // data-panel shows its panel in place (without this script its link
  // asks the server for the page with that panel shown), the others are
  // links to other pages. Arrow keys, Home and End move between tabs; a
  // panel tab shows at once, a link tab waits for Enter.
  function initTabs(root) {
    root.querySelectorAll('[role="tablist"]').forEach(function (list) {
      var tabs = Array.prototype.slice.call(list.querySelectorAll('[role="tab"]'));
      function select(tab, focus) {
        tabs.forEach(function (t) {
          var on = t === tab;
          t.setAttribute("aria-selected", String(on));
          t.tabIndex = on ? 0 : -1;
          var panel = t.getAttribute("data-panel") && document.getElementById(t.getAttribute("data-panel"));
          if (panel) panel.hidden = !on;
        });
        if (focus) tab.focus();
        if (window.history && history.replaceState) {
          var u = new URL(tab.href, window.location.href);
          history.replaceState(null, "", u.pathname + u.search);
        }
      }
      tabs.forEach(function (tab, i) {
        tab.addEventListener("click", function (e) {
          if (!tab.getAttribute("data-panel") || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          select(tab, false);
        });
        tab.addEventListener("keydown", function (e) {
          var j = -1;
          if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
          else if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
          else if (e.key === "Home") j = 0;
          else if (e.key === "End") j = tabs.length - 1;
          else if (e.key === " ") { e.preventDefault(); tab.click(); return; }
          if (j < 0) return;
          e.preventDefault();
          if (tabs[j].getAttribute("data-panel")) select(tabs[j], true); else tabs[j].focus();
        });
      });
    });
  }

  // A table box that still scrolls sideways (a value too long to wrap)
  // says so above it, so no column hides past its edge unannounced.
  function scrollHints(root) {
    root.querySelectorAll(".table-scroll").forEach(function (box) {
      var hint = box.previousElementSibling;
      if (!hint || !hint.classList.contains("scroll-hint")) {
        hint = document.createElement("p");
        hint.className = "scroll-hint";
        hint.setAttribute("data-testid", "scroll-hint");
        var small = document.createElement("small");
        small.textContent = "The table is wider than the page: scroll it sideways → to see every column.";
        hint.appendChild(small);
        box.parentNode.insertBefore(hint, box);
      }
      hint.hidden = box.scrollWidth <= box.clientWidth + 1;
    });
  }

  // Pickers (the audit log's app and user filters): the box shows the
  // picked name, the hidden field named by its data-pick-id carries the
  // id the filter takes. Picking an option of the box's datalist (value:
  // the name, data-id: the id) fills the id; anything else typed is taken
  // as an id itself; the untouched name shown on load keeps its id. On
  // submit the box itself is left out, so the address holds only ids.
  // Without this script the box is sent (app_q, user_q) and read as an id.
  function initPickers(root) {
    root.querySelectorAll("input[data-pick-id]").forEach(function (box) {
      var hidden = document.getElementById(box.getAttribute("data-pick-id"));
      if (!hidden || box.dataset.pickReady) return;
      box.dataset.pickReady = "1";
      var shown = box.value, id = hidden.value;
      function sync() {
        var v = box.value.trim(), picked = null;
        if (box.list) {
          Array.prototype.forEach.call(box.list.options, function (o) {
            if (!picked && o.value === box.value) picked = o.getAttribute("data-id");
          });
        }
        // The list may have been replaced since the pick (the options
        // follow what is typed): the name picked last keeps its id.
        if (picked) { shown = box.value; id = picked; hidden.value = picked; }
        else if (v !== "" && box.value === shown) hidden.value = id;
        else hidden.value = v;
      }
      box.addEventListener("input", sync);
      box.addEventListener("change", sync);
      if (box.form) box.form.addEventListener("submit", function () { sync(); box.disabled = true; });
      window.addEventListener("pageshow", function () { box.disabled = false; });
    });
  }

  function init(root) {
    labelCells(root);
    scrollHints(root);
    initPickers(root);
    initCopy(root);
    initScopeFilter(root);
    initTabs(root);
  }

  // An error summary takes focus, so a screen reader reads it and the
  // keyboard starts from its links to the fields.
  function focusErrors() {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    initMenu();
    init(document);
    focusErrors();
  });
  window.addEventListener("resize", function () { scrollHints(document); });
  // Content that htmx swaps in gets the same behaviour.
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
