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

  // Times a script draws follow the page's zone (<html data-zone>: the one the server drew
  // the page in) and are named as the server names them (data-zone-names: abbreviation by
  // UTC offset in minutes), so "2026-03-08 03:00:00 EDT" reads the same from both.
  var root = document.documentElement;
  var zoneNames = {};
  try { zoneNames = JSON.parse(root.getAttribute("data-zone-names") || "{}"); } catch (e) { zoneNames = {}; }
  var zoneFormat = null;
  try {
    zoneFormat = new Intl.DateTimeFormat("en-US", {
      timeZone: root.getAttribute("data-zone") || "UTC", hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "longOffset" });
  } catch (e) { zoneFormat = null; }
  function wallClock(us, precise) {  // the instant as UTC reads it, without a zone
    return new Date(Math.floor(us / 1000)).toISOString().replace("T", " ").slice(0, precise ? 23 : 19);
  }
  window.sensrWallClock = wallClock;
  // `us` (µs since the epoch) in the page's zone: "2026-03-08 03:00:00 EDT" (".123" with `precise`).
  window.sensrTime = function (us, precise) {
    if (!zoneFormat) { return wallClock(us, precise) + " UTC"; }
    var p = {};
    zoneFormat.formatToParts(new Date(Math.floor(us / 1000))).forEach(function (part) { p[part.type] = part.value; });
    var offset = /GMT([+-])(\d\d):(\d\d)/.exec(p.timeZoneName || "");
    var minutes = offset ? (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : 0;
    var name = zoneNames[String(minutes)] || p.timeZoneName;
    var ms = precise ? "." + String(Math.floor(us / 1000) % 1000).padStart(3, "0") : "";
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second + ms + " " + name;
  };

  // The page addresses of a camera's frames, for a viewer with a share link (`share`) or
  // signed in (null): path("/frames.json", {before: id}), frameUrl(id, "thumbnail").
  window.sensrCameraUrls = function (camera, share) {
    function query(params) {
      var q = new URLSearchParams(params || {});
      if (share) { q.set("share", share); }
      var text = q.toString();
      return text ? "?" + text : "";
    }
    function path(rest, params) { return "/cameras/" + encodeURIComponent(camera) + rest + query(params); }
    function frameUrl(id, variant) { return path("/frames/" + encodeURIComponent(id) + (variant ? "/" + variant : "")); }
    return { query: query, path: path, frameUrl: frameUrl };
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

  // Times are drawn in the page's zone; where that is not UTC, a tooltip gives the UTC time.
  if ((root.getAttribute("data-zone") || "UTC") !== "UTC") {
    Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (element) {
      var moment = new Date(element.getAttribute("datetime"));
      if (!isNaN(moment.getTime())) { element.title = wallClock(moment.getTime() * 1000) + " UTC"; }
    });
  }

  // Alert rules: an empty time-zone field starts with the browser's own zone.
  var zoneField = document.querySelector("input[data-default-time-zone]");
  if (zoneField && !zoneField.value && window.Intl) {
    zoneField.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }

  // Local time: tell the server the browser's time zone (the `sensr_tz` cookie); a page
  // drawn in another zone than the browser's, where the user chose none, is drawn again.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (zone) {
    var cookie = "sensr_tz=" + encodeURIComponent(zone);
    var known = document.cookie.split("; ").indexOf(cookie) >= 0;
    document.cookie = cookie + "; path=/; max-age=31536000; samesite=lax";
    var html = document.documentElement;
    if (!known && html.getAttribute("data-zone-source") === "browser" && html.getAttribute("data-zone") !== zone &&
        document.cookie.split("; ").indexOf(cookie) >= 0) {
      window.location.reload();
    }
  }
})();

// Clip list: progress bars follow the clip progress stream; a clip that finishes reloads
// the page (to show its player). Without this script the list still shows each clip's state.
(function () {
  var list = document.querySelector("section.clips[data-events]");
  if (!list || !window.EventSource) { return; }
  var source = new EventSource(list.getAttribute("data-events"));
  source.addEventListener("clip", function (event) {
    var clip = JSON.parse(event.data);
    var item = list.querySelector('[data-clip-id="' + clip.id + '"]');
    if (!item) { return; }
    var bar = item.querySelector("progress");
    var text = item.querySelector(".progress-text");
    var state = item.querySelector(".state");
    var unfinished = !state || state.textContent === "queued" || state.textContent === "rendering";
    if (state) { state.textContent = clip.state; }
    if (bar) { bar.value = clip.percent; bar.textContent = clip.percent + " %"; }
    if (text) {
      var eta = clip.eta_seconds != null ? " · " + Math.ceil(clip.eta_seconds) + " s left" : "";
      text.textContent = clip.frames_done + " / " + clip.frames_total + " frames" + eta;
    }
    // The stream starts with every clip's state: only a clip that ended since the page was drawn reloads it.
    if (unfinished && (clip.state === "ready" || clip.state === "failed" || clip.state === "cancelled")) {
      source.close();
      window.location.reload();
    }
  });
})();
