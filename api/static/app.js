// Sensr web UI: small progressive enhancements. Every page works without this script.
"use strict";

(function () {
  // How far a camera's clock is from Sensr's: "2 h 5 min ahead", "3 min 0 s behind"
  // (as api.status.clock_offset_text says it on the server's pages).
  window.sensrClockOffsetText = function (offsetSeconds) {
    var s = Math.floor(Math.abs(offsetSeconds)), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), rest = s % 60;
    var parts = (h ? [h + " h"] : []).concat(m ? [m + " min"] : []).concat(rest && !h ? [rest + " s"] : []);
    return (parts.join(" ") || "0 s") + (offsetSeconds > 0 ? " ahead" : " behind");
  };

  // Copy buttons: <button class="copy" data-copy="ID"> copies the text of element #ID.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var label = button.textContent;
    copyText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
      button.classList.add("copied");
    }, function () {
      selectText(source);  // let the user press Ctrl-C
      button.textContent = "Press Ctrl-C";
    }).then(function () {
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1600);
    });
  });

  // Forms with data-confirm ask before they are sent.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // Times: show the visitor's local time in a tooltip (the page says UTC).
  Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (element) {
    var moment = new Date(element.getAttribute("datetime"));
    if (!isNaN(moment.getTime())) { element.title = moment.toLocaleString() + " (your time)"; }
  });

})();
