// Keyboard shortcuts and bulk selection for the curator pages; plain JavaScript, no dependencies.
// What it says comes from the page, in the page's language: #selected-count's data-selected ("{count}"
// stands for the number), and the bulk form's data-no-selection and data-no-reason.
(function () {
  "use strict";

  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function go(id) {
    var link = document.getElementById(id);
    if (link) { window.location.href = link.href; return true; }
    return false;
  }

  function submit(formId, action) {
    var form = document.getElementById(formId);
    if (!form) return false;
    var button = form.querySelector('button[name="action"][value="' + action + '"]');
    if (!button || button.disabled) return false;
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
    return true;
  }

  // Queue: a current row moved with j/k, opened with o or Enter, selected with x.
  function queuePage() {
    var table = document.getElementById("queue");
    if (!table) return;
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
    var current = -1;
    var boxes = table.querySelectorAll('tbody input[name="match_id"]');
    var counter = document.getElementById("selected-count");
    var all = document.getElementById("select-all");
    var bulk = document.getElementById("bulk");
    function says(element, name, english) {
      return (element && element.getAttribute(name)) || english;
    }

    function count() {
      var n = table.querySelectorAll('tbody input[name="match_id"]:checked').length;
      if (counter) counter.textContent = says(counter, "data-selected", "{count} selected").replace("{count}", n);
      document.body.classList.toggle("has-selection", n > 0);
    }
    function focusRow(i) {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) { r.classList.toggle("current", j === current); });
      rows[current].scrollIntoView({ block: "nearest" });
    }
    Array.prototype.forEach.call(boxes, function (b) { b.addEventListener("change", count); });
    if (all) all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
      count();
    });
    rows.forEach(function (row, i) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, input, button, label")) return;
        focusRow(i);
      });
    });
    if (bulk) bulk.addEventListener("submit", function (event) {
      var button = event.submitter;
      var chosen = table.querySelectorAll('tbody input[name="match_id"]:checked').length;
      if (!chosen) { event.preventDefault(); alert(says(bulk, "data-no-selection", "Select at least one match first (x or the check boxes).")); return; }
      if (button && button.value === "reject" && !document.getElementById("bulk-reason").value) {
        event.preventDefault();
        document.getElementById("bulk-reason").focus();
        alert(says(bulk, "data-no-reason", "Choose a reason for rejecting."));
      }
    });
    count();

    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      switch (event.key) {
        case "j": case "ArrowDown": focusRow(current + 1); break;
        case "k": case "ArrowUp": focusRow(current - 1); break;
        case "o": case "Enter":
          if (current >= 0) window.location.href = rows[current].dataset.href; else return;
          break;
        case "x":
          if (current < 0) return;
          var box = rows[current].querySelector('input[name="match_id"]');
          if (box) { box.checked = !box.checked; count(); }
          break;
        case "/":
          var first = document.querySelector("#filters select");
          if (first) first.focus();
          break;
        default: return;
      }
      event.preventDefault();
    });
  }

  // Match page: a approve, e edit then approve, r reject, n/j next, k previous, u back to the queue.
  function matchPage() {
    if (!document.getElementById("decide")) return;
    var summary = document.getElementById("edited-summary");
    var reasonText = document.getElementById("reject-text");
    [summary, reasonText].forEach(function (area) {
      if (!area) return;
      area.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          area.form.requestSubmit(area.form.querySelector('button[name="action"]'));
        }
      });
    });
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      var handled = true;
      switch (event.key) {
        case "a": handled = submit("approve-form", "approve"); break;
        case "e": if (summary) { summary.focus(); summary.select(); } break;
        case "r": var reason = document.getElementById("reject-reason"); if (reason) reason.focus(); break;
        case "n": case "j": handled = go("next-match"); break;
        case "k": case "p": handled = go("prev-match"); break;
        case "u": handled = go("back-to-queue"); break;
        default: handled = false;
      }
      if (handled) event.preventDefault();
    });
  }

  function help() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "?" || typing(event)) return;
      var footer = document.querySelector("footer");
      if (footer) footer.classList.toggle("highlight");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { queuePage(); matchPage(); help(); });
})();
