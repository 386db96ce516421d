/* Moves through the steps of every trace viewer on the page: arrow keys, j/k, Home/End, or a
   click on a step in the list or the diagram. Keys act on the viewer last clicked or linked to. */
(function () {
  "use strict";
  var active = null;

  function setup(viewer) {
    var items = Array.prototype.slice.call(viewer.querySelectorAll(".step-item"));
    var rows = Array.prototype.slice.call(viewer.querySelectorAll("g.step"));
    var states = Array.prototype.slice.call(viewer.querySelectorAll(".state"));
    var last = items.length - 1;
    function select(i) {
      i = Math.max(0, Math.min(last, i));
      viewer.setAttribute("data-selected", String(i));
      items.forEach(function (el) { el.classList.toggle("selected", Number(el.getAttribute("data-step")) === i); });
      rows.forEach(function (el) { el.classList.toggle("selected", Number(el.getAttribute("data-step")) === i); });
      states.forEach(function (el) { el.hidden = Number(el.getAttribute("data-step")) !== i; });
      var item = items[i];
      if (item && item.scrollIntoView) { item.scrollIntoView({block: "nearest"}); }
    }
    function current() { return Number(viewer.getAttribute("data-selected") || 0); }
    function pick(event) {
      var target = event.target.closest("[data-step]");
      if (target) { active = handle; select(Number(target.getAttribute("data-step"))); }
    }
    viewer.querySelector(".steps").addEventListener("click", pick);
    viewer.querySelector(".diagram").addEventListener("click", pick);
    viewer.addEventListener("focusin", function () { active = handle; });
    var handle = {viewer: viewer, select: select, current: current, last: last};
    select(0);
    return handle;
  }

  var viewers = Array.prototype.slice.call(document.querySelectorAll(".viewer")).map(setup);
  function linked() {
    var id = window.location.hash.slice(1);
    return viewers.filter(function (v) { return v.viewer.id === id; })[0] || null;
  }
  window.addEventListener("hashchange", function () { active = linked() || active; });
  active = linked() || viewers[0] || null;

  document.addEventListener("keydown", function (event) {
    if (!active || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) { return; }
    var moves = {ArrowDown: 1, ArrowRight: 1, j: 1, n: 1, ArrowUp: -1, ArrowLeft: -1, k: -1, p: -1};
    var at = active.current();
    if (event.key in moves) { active.select(at + moves[event.key]); }
    else if (event.key === "Home") { active.select(0); }
    else if (event.key === "End") { active.select(active.last); }
    else { return; }
    event.preventDefault();
  });
})();
