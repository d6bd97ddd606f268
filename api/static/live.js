// Sensr web UI: the live view tells the truth. The MJPEG stream (an <img>) shows frames
// the moment they are uploaded; each stored frame (the "sensr:frame" events status.js
// relays) says when and how big. "Live" only while frames keep coming: after a pause
// longer than the camera's own rhythm (3 x its recent interval, at least 3 s) the label
// says the camera is quiet and how old the last frame is; past the camera's offline
// threshold, offline. Until the stream brings a frame, the last stored one shows.
"use strict";

(function () {
  var live = document.getElementById("live-image");
  var status = document.getElementById("live-status");
  if (!live || !status) { return; }
  var base = live.getAttribute("src");
  var lastUs = Number(status.getAttribute("data-last-us") || 0);
  var size = status.getAttribute("data-size") || "";
  var offlineUs = Number(status.getAttribute("data-offline-minutes")) * 60e6;
  var arrivals = [];  // when (this page's clock, ms) the latest frames arrived
  var retry = null;
  var leaving = false;
  var streamShown = false;

  function ageText(us) {  // to the second while it is recent: the label is about seconds
    if (us < 60e6 || !window.sensrAgeText) { return Math.max(0, Math.floor(us / 1e6)) + " s ago"; }
    return window.sensrAgeText(us);
  }
  function nowUs() { return window.sensrServerNowUs ? window.sensrServerNowUs() : Date.now() * 1000; }

  function quietAfterMs() {
    if (arrivals.length < 2) { return 3000; }
    var span = (arrivals[arrivals.length - 1] - arrivals[0]) / (arrivals.length - 1);
    return Math.min(60000, Math.max(3000, 3 * span));
  }

  function setState(state, text) {
    status.setAttribute("data-state", state);
    if (status.textContent !== text) { status.textContent = text; }
  }

  function render() {
    if (!lastUs) { return; }  // "waiting" as rendered, or "reconnecting"
    var age = nowUs() - lastUs;
    var sinceArrival = arrivals.length ? Date.now() - arrivals[arrivals.length - 1] : Infinity;
    if (sinceArrival < quietAfterMs()) {
      setState("live", "Live · " + size + " · last frame " + ageText(age));
    } else if (age >= offlineUs) {
      setState("offline", "Offline · last frame " + ageText(age));
    } else {
      setState("quiet", "Quiet · last frame " + ageText(age));
    }
  }

  function showLast(url, alt) {
    if (streamShown) { return; }
    var last = document.getElementById("live-last");
    if (!last) {
      last = document.createElement("img");
      last.id = "live-last";
      last.className = "live-last";
      live.parentNode.insertBefore(last, live);
      var empty = document.getElementById("live-empty");
      if (empty) { empty.remove(); }
    }
    last.alt = alt;
    last.src = url;
  }

  document.addEventListener("sensr:frame", function (event) {
    var frame = event.detail;
    if (frame.timestamp_us < lastUs) { return; }
    lastUs = frame.timestamp_us;
    size = frame.width + " × " + frame.height;
    arrivals.push(Date.now());
    if (arrivals.length > 8) { arrivals.shift(); }
    showLast(frame.image_url, "Last frame of this camera");
    render();
  });

  // A frame stored before the stream began (the status taken when it opened).
  document.addEventListener("sensr:status", function (event) {
    var frame = event.detail.last_frame;
    if (!frame || frame.timestamp_us <= lastUs) { return; }
    lastUs = frame.timestamp_us;
    size = frame.width + " × " + frame.height;
    var params = new URLSearchParams(window.location.search);
    params.delete("full");
    var query = params.toString();
    showLast(window.location.pathname.replace(/\/live$/, "") + "/frames/" + encodeURIComponent(frame.id) +
             "/image" + (query ? "?" + query : ""), "Last frame of this camera");
    render();
  });

  // A new frame of the stream changes the picture: a tiny copy of it tells (the <img>
  // fires no event per part of a multipart stream). Frames that look the same still
  // count through their stored events.
  var probe = document.createElement("canvas");
  probe.width = probe.height = 8;
  var probeContext = probe.getContext("2d", { willReadFrequently: true });
  var lastPicture = "";
  function streamChanged() {
    try {
      probeContext.drawImage(live, 0, 0, 8, 8);
      var picture = Array.prototype.join.call(probeContext.getImageData(0, 0, 8, 8).data, ",") +
        live.naturalWidth + "x" + live.naturalHeight;
      var changed = picture !== lastPicture;
      lastPicture = picture;
      return changed;
    } catch (error) {
      return false;  // not decodable right now: the stored events still tell
    }
  }

  var watch = setInterval(function () {
    if (live.naturalWidth > 0) {
      if (!streamShown) {  // the stream's first frame: show it over the last stored one
        streamShown = true;
        live.classList.add("shown");
      }
      if (streamChanged()) {
        arrivals.push(Date.now());
        if (arrivals.length > 8) { arrivals.shift(); }
        size = live.naturalWidth + " × " + live.naturalHeight;  // the size of what shows
        if (!lastUs) { lastUs = nowUs(); }
      }
    }
    render();
  }, 250);

  live.addEventListener("error", function () {
    if (leaving) { return; }
    setState("reconnecting", "The live stream was interrupted; reconnecting…");
    if (retry === null) {
      retry = setTimeout(function () {
        retry = null;
        live.src = base + (base.indexOf("?") < 0 ? "?" : "&") + "r=" + Date.now();
      }, 3000);
    }
  });

  var full = document.getElementById("live-fullscreen");
  var frameBox = document.getElementById("live-frame");
  function setFull(on) {
    frameBox.classList.toggle("fullscreen", on);
    full.setAttribute("aria-pressed", on ? "true" : "false");
    full.textContent = on ? "Exit full screen" : "Full screen";
  }
  full.addEventListener("click", function () {
    var on = !frameBox.classList.contains("fullscreen");
    setFull(on);
    if (on && frameBox.requestFullscreen) {
      frameBox.requestFullscreen().catch(function () { /* the CSS full-window view stays */ });
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen();
    }
  });
  document.addEventListener("fullscreenchange", function () {
    if (!document.fullscreenElement) { setFull(false); }
  });
  if (new URLSearchParams(window.location.search).get("full") === "1") { setFull(true); }

  window.addEventListener("pagehide", function () {
    leaving = true;
    clearInterval(watch);
    live.removeAttribute("src");  // close the stream at once
  });
})();
