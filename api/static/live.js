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

  function ageText(us) { return window.sensrAgeText ? window.sensrAgeText(us) : Math.round(us / 1e6) + " s ago"; }
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
      setState("quiet", "Quiet · no new frame · last frame " + ageText(age));
    }
  }

  document.addEventListener("sensr:frame", function (event) {
    var frame = event.detail;
    if (frame.timestamp_us < lastUs) { return; }
    lastUs = frame.timestamp_us;
    size = frame.width + " × " + frame.height;
    arrivals.push(Date.now());
    if (arrivals.length > 8) { arrivals.shift(); }
    var last = document.getElementById("live-last");
    if (last && !streamShown) { last.src = frame.image_url; }
    render();
  });

  var watch = setInterval(function () {
    if (!streamShown && live.naturalWidth > 0) {  // the stream's first frame: show it over the last stored one
      streamShown = true;
      live.classList.add("shown");
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
