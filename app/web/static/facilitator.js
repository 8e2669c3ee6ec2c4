// Facilitator pages: filter the SME and provider lists, count what is picked, follow an optimiser run.
(function () {
  "use strict";

  function pickers() {
    document.querySelectorAll("[data-picker]").forEach(function (box) {
      var items = Array.prototype.slice.call(box.querySelectorAll("li[data-name]"));
      var filter = box.querySelector("[data-filter]");
      var picked = box.querySelector("[data-picked]");
      // The words come from the page, in its language: data-picked-text="(N picked)" with {n} for the number.
      var pickedText = (picked && picked.getAttribute("data-picked-text")) || "({n} picked)";
      function count() {
        var n = box.querySelectorAll("li input[type=checkbox]:checked").length;
        if (picked) picked.textContent = pickedText.replace("{n}", String(n));
      }
      function shown() { return items.filter(function (li) { return !li.hidden; }); }
      if (filter) {
        filter.addEventListener("input", function () {
          var words = filter.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
          items.forEach(function (li) {
            var name = li.getAttribute("data-name");
            li.hidden = !words.every(function (w) { return name.indexOf(w) !== -1; });
          });
        });
      }
      function setAll(value) {
        shown().forEach(function (li) { li.querySelector("input[type=checkbox]").checked = value; });
        count();
      }
      var all = box.querySelector("[data-all]"), none = box.querySelector("[data-none]");
      if (all) all.addEventListener("click", function () { setAll(true); });
      if (none) none.addEventListener("click", function () { setAll(false); });
      box.addEventListener("change", count);
      count();
    });
  }

  function followRun() {
    var box = document.getElementById("run");
    var seconds = document.getElementById("run-seconds");
    var bar = document.getElementById("run-progress");
    if (!box || !seconds) return;
    var url = box.getAttribute("data-status");
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (run) {
          if (run.state === "running") {
            seconds.textContent = Math.round(run.seconds);
            if (bar) bar.value = Math.min(run.seconds, run.time_limit);
            var said = document.getElementById("run-message");
            if (said && run.message) said.textContent = run.message;
            window.setTimeout(poll, 700);
          } else {
            // Done or failed: the run's page says which (and sends a finished run to its plan).
            window.location.reload();
          }
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    }
    window.setTimeout(poll, 400);
  }

  document.addEventListener("DOMContentLoaded", function () { pickers(); followRun(); });
})();
