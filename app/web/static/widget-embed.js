/* techmatch widget: put <script src="https://TECHMATCH/static/widget-embed.js" data-key="pk_..." async></script>
   where the form should appear; it puts the widget's page there in an iframe. No cookies, nothing else loaded. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.key) { return; }
  var base = new URL(script.src).origin;
  var source = new URL("/widget", base);
  source.searchParams.set("key", script.dataset.key);
  if (script.dataset.lang) { source.searchParams.set("lang", script.dataset.lang); }
  var frame = document.createElement("iframe");
  frame.src = source.toString();
  frame.title = script.dataset.title || "Send us your need";
  frame.style.width = "100%";
  frame.style.maxWidth = "42rem";
  frame.style.height = script.dataset.height || "760px";
  frame.style.border = "0";
  frame.setAttribute("loading", "lazy");
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
