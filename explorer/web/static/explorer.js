/* The explorer page: asks the server for the current view and puts its HTML fragments in place.
   Every state, diff and diagram is drawn by the server, with the same code as `agree show`. */
(function () {
  "use strict";
  var view = null;
  var $ = function (id) { return document.getElementById(id); };

  function post(route, body) {
    return request(fetch(route, {method: "POST", headers: {"Content-Type": "application/json"},
                                 body: JSON.stringify(body || {})}));
  }
  function request(pending) {
    document.body.classList.add("busy");
    return pending.then(function (response) { return response.json(); })
      .then(function (data) { if (data.title) { show(data); } else { say(data.error || "no answer", true); } })
      .catch(function (err) { say(String(err), true); })
      .finally(function () { document.body.classList.remove("busy"); });
  }
  function say(text, bad) {
    $("message").textContent = text || "";
    $("message").className = bad ? "error" : "";
  }

  function show(data) {
    view = data;
    $("title").textContent = data.title;
    document.title = "agree explore: " + data.title;
    $("state").innerHTML = data.state;
    $("diagram").innerHTML = data.svg;
    $("path").innerHTML = "";
    data.path.forEach(function (label, i) {
      var item = document.createElement("li");
      item.className = "step-item" + (i === data.position ? " selected" : "") + (i > data.position ? " ahead" : "");
      item.setAttribute("data-step", String(i));
      item.textContent = i + ". " + label;
      $("path").appendChild(item);
    });
    Array.prototype.forEach.call($("diagram").querySelectorAll("g.step"), function (g) {
      g.classList.toggle("selected", Number(g.getAttribute("data-step")) === data.position);
    });
    $("enabled").innerHTML = "";
    data.enabled.forEach(function (step) {
      var button = document.createElement("button");
      button.className = "take";
      button.textContent = (step.index < 9 ? (step.index + 1) + ". " : "") + step.label;
      button.addEventListener("click", function () { post("/api/step", {index: step.index}); });
      $("enabled").appendChild(button);
    });
    if (!data.enabled.length) { $("enabled").innerHTML = '<p class="none">no step is enabled: a dead end</p>'; }
    $("properties").innerHTML = "";
    data.properties.forEach(function (p) {
      var row = $("properties").insertRow();
      row.className = "property " + (p.violated ? "violated" : (p.status === "holds" ? "holds" : ""));
      row.setAttribute("data-name", p.name);
      row.title = p.doc;
      [p.name, p.kind, p.status].forEach(function (text, i) {
        var cell = row.insertCell();
        cell.textContent = text;
        cell.className = ["name", "kind", "status"][i];
      });
    });
    $("initials").hidden = data.initials < 2;
    if ($("initial").options.length !== data.initials) {
      $("initial").innerHTML = "";
      for (var i = 0; i < data.initials; i++) {
        var label = (data.initial_labels && data.initial_labels[i]) || String(i);
        $("initial").add(new Option(label, String(i)));
      }
    }
    $("back").disabled = data.position === 0;
    $("forward").disabled = data.position >= data.length;
    say(data.error || data.message, Boolean(data.error));
    var picked = $("path").querySelector(".selected");
    if (picked && picked.scrollIntoView) { picked.scrollIntoView({block: "nearest"}); }
  }

  function jump(position) { post("/api/goto", {position: position}); }
  $("back").addEventListener("click", function () { jump(view.position - 1); });
  $("forward").addEventListener("click", function () { jump(view.position + 1); });
  $("counterexample").addEventListener("click", function () {
    say("searching…");
    post("/api/counterexample");
  });
  $("load").addEventListener("change", function () {
    var file = this.files[0];
    if (!file) { return; }
    file.text().then(function (text) {
      request(fetch("/api/load", {method: "POST", headers: {"Content-Type": "application/json"}, body: text}));
    });
    this.value = "";
  });
  $("initial").addEventListener("change", function () { post("/api/restart", {initial: Number(this.value)}); });
  function pick(event) {
    var target = event.target.closest("[data-step]");
    if (target) { jump(Number(target.getAttribute("data-step"))); }
  }
  $("path").addEventListener("click", pick);
  $("diagram").addEventListener("click", pick);
  document.addEventListener("keydown", function (event) {
    if (!view || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) { return; }
    if (event.key === "ArrowLeft" && view.position > 0) { jump(view.position - 1); }
    else if (event.key === "ArrowRight" && view.position < view.length) { jump(view.position + 1); }
    else if (/^[1-9]$/.test(event.key) && Number(event.key) <= view.enabled.length) {
      post("/api/step", {index: Number(event.key) - 1});
    } else { return; }
    event.preventDefault();
  });
  request(fetch("/api/state"));
})();
