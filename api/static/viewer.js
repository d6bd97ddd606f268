// Sensr web UI: the frame viewer steps through frames without loading pages. The frames
// around the one shown come from frames.json (40 each way, more when the end is near);
// every arrow press, Previous/Next click or swipe moves exactly one frame (presses are
// queued, never lost), the URL follows, and the neighbours' images are prefetched.
// Without this script the Previous/Next links still work as plain links.
"use strict";

(function () {
  var viewer = document.getElementById("viewer");
  if (!viewer) { return; }
  var camera = viewer.getAttribute("data-camera-id");
  var share = viewer.getAttribute("data-share");
  var img = document.getElementById("frame-image");
  var frames = [], pos = -1, steps = 0, stepping = false;

  var urls = window.sensrCameraUrls(camera, share), path = urls.path, frameUrl = urls.frameUrl;
  function seconds(us) { return Math.floor(us / 1e6) + "." + String(us % 1e6).padStart(6, "0"); }
  function local(us) { return window.sensrTime(us, true); }  // in the page's zone, as the server draws it
  function page(params) {
    return fetch(path("/frames.json", params), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { frames: [] }; })
      .then(function (body) { return body.frames; });
  }
  function prefetch(frame) { if (frame) { new Image().src = frameUrl(frame.id, "image"); } }
  function field(name, text) {
    var element = viewer.querySelector('[data-field="' + name + '"]');
    if (element) { element.textContent = text; }
  }
  function setLink(id, frame, label, rel) {
    var element = document.getElementById(id) || document.getElementById(id + "-none");
    if (!element) { return; }
    if (!frame) {
      if (element.tagName === "A") {
        var span = document.createElement("span");
        span.className = "disabled";
        span.id = id + "-none";
        span.textContent = label;
        element.replaceWith(span);
      }
      return;
    }
    if (element.tagName !== "A") {
      var link = document.createElement("a");
      link.id = id;
      link.rel = rel;
      link.textContent = label;
      element.replaceWith(link);
      element = link;
    }
    element.href = frameUrl(frame.id);
  }
  var SOURCES = { ftp: "FTP", http: "HTTP photo upload", mjpeg: "MJPEG stream" };

  function display(frame) {
    var next = new Image();
    next.onload = next.onerror = function () {
      if (frames[pos] !== frame) { return; }
      img.src = next.src;
      img.width = frame.width;
      img.height = frame.height;
    };
    next.src = frameUrl(frame.id, "image");
    img.alt = "Frame of " + viewer.getAttribute("data-camera-name") + " at " + window.sensrTime(frame.timestamp_us);
    var time = document.getElementById("frame-time");
    time.textContent = local(frame.timestamp_us);
    time.setAttribute("datetime", new Date(frame.timestamp_us / 1000).toISOString());
    if (document.documentElement.getAttribute("data-zone") !== "UTC") {  // as app.js's tooltips: the UTC time
      time.title = window.sensrWallClock(frame.timestamp_us) + " UTC";
    }
    field("sensr-time", local(frame.timestamp_us));
    field("camera-time", frame.camera_time_us != null ? window.sensrWallClock(frame.camera_time_us, true) : "—");
    var offset = viewer.querySelector('[data-field="clock-offset"]');
    var off = frame.camera_clock_offset_s;
    offset.hidden = off == null || Math.abs(off) <= 60;
    offset.textContent = offset.hidden ? "" : "camera clock " + window.sensrClockOffsetText(off);
    field("size", frame.width + " × " + frame.height + " · " + (frame.size / 1000).toFixed(1) + " KB");
    field("source", SOURCES[frame.source] || frame.source);
    field("filename", frame.filename || "—");
    field("frame-id", frame.id);
    document.getElementById("original-link").href = frameUrl(frame.id, "image");
    var download = document.getElementById("download-frame");
    if (download) { download.href = frameUrl(frame.id, "download"); }
    var remove = document.getElementById("delete-frame");  // the owner's button: it must delete the frame shown
    if (remove && remove.form) { remove.form.action = frameUrl(frame.id, "delete"); }
    var score = viewer.querySelector("[data-score]");
    if (score) {
      score.parentNode.hidden = frame.score == null;
      if (frame.score != null) {
        score.setAttribute("data-score", frame.score);
        score.textContent = frame.score.toFixed(1) + " % of the picture changed" + (frame.moving ? " (moving)" : "");
      }
    }
    viewer.setAttribute("data-frame-id", frame.id);
    setLink("previous-frame", frames[pos - 1] || null, "‹ Previous", "prev");
    setLink("next-frame", frames[pos + 1] || null, "Next ›", "next");
    history.replaceState(null, "", frameUrl(frame.id));
  }

  function load() {
    var ts = Number(viewer.getAttribute("data-timestamp-us"));
    var id = viewer.getAttribute("data-frame-id");
    return Promise.all([page({ until: seconds(ts + 1), order: "desc", limit: "40" }),
                        page({ since: seconds(ts), limit: "40" })]).then(function (pages) {
      var seen = {};
      frames = pages[0].slice().reverse().concat(pages[1]).filter(function (f) {
        if (seen[f.id]) { return false; }
        seen[f.id] = true;
        return true;
      });
      pos = frames.findIndex(function (f) { return f.id === id; });
      prefetch(frames[pos - 1]);
      prefetch(frames[pos + 1]);
    });
  }
  function extend(direction) {
    if (direction > 0) {
      var last = frames[frames.length - 1];
      return page({ since: seconds(last.timestamp_us), limit: "40" }).then(function (more) {
        more.forEach(function (f) { if (!frames.some(function (g) { return g.id === f.id; })) { frames.push(f); } });
      });
    }
    var first = frames[0];
    return page({ until: seconds(first.timestamp_us + 1), order: "desc", limit: "40" }).then(function (more) {
      var added = more.filter(function (f) { return !frames.some(function (g) { return g.id === f.id; }); }).reverse();
      frames = added.concat(frames);
      pos += added.length;
    });
  }
  var ready = load();
  function step(direction) {
    steps += direction;
    if (!stepping) { drain(); }
  }
  function drain() {
    if (!steps) { stepping = false; return; }
    stepping = true;
    ready.then(function () {
      var direction = steps > 0 ? 1 : -1;
      var edge = direction > 0 ? pos + 2 >= frames.length : pos - 1 <= 0;
      return edge ? extend(direction).then(function () { return direction; }) : direction;
    }).then(function (direction) {
      steps -= direction;
      if (pos < 0 || !frames[pos + direction]) { steps = 0; stepping = false; return; }
      pos += direction;
      display(frames[pos]);
      prefetch(frames[pos + direction]);
      drain();
    }, function () { steps = 0; stepping = false; });
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") { return; }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      step(event.key === "ArrowRight" ? 1 : -1);
    }
  });
  viewer.addEventListener("click", function (event) {
    var link = event.target.closest("#previous-frame, #next-frame");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    step(link.id === "next-frame" ? 1 : -1);
  });
  var touchX = null;
  img.addEventListener("touchstart", function (event) { touchX = event.touches[0].clientX; }, { passive: true });
  img.addEventListener("touchend", function (event) {
    if (touchX === null) { return; }
    var dx = event.changedTouches[0].clientX - touchX;
    touchX = null;
    if (Math.abs(dx) > 40) { step(dx < 0 ? 1 : -1); }  // swipe left: the next frame
  });
})();
