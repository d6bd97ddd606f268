// Sensr web UI: camera status kept live over Server-Sent Events (camera list, camera
// page, live wall, live view). The page renders the status; this keeps it true:
// "last frame 2 min ago" ticks, online turns offline after the camera's threshold, and
// each stored frame (event `frame` of the page's data-events stream) updates the
// thumbnail, the age and the count of the last hour without a reload.
"use strict";

(function () {
  var root = document.querySelector("[data-events]");
  var statuses = Array.prototype.slice.call(document.querySelectorAll("[data-status-camera]"));
  if (!root && !statuses.length) { return; }
  var LABELS = { online: "Online", offline: "Offline", "new": "No frames yet" };
  // Clocks: ages are counted on the server's clock (the page tells its "now").
  var skewMs = 0;
  if (statuses.length && statuses[0].getAttribute("data-now-us")) {
    skewMs = Number(statuses[0].getAttribute("data-now-us")) / 1000 - Date.now();
  }
  function serverNowUs() { return (Date.now() + skewMs) * 1000; }

  function ageText(ageUs) {
    var s = Math.floor(Math.max(0, ageUs) / 1e6);
    if (s < 10) { return "just now"; }
    if (s < 60) { return s + " s ago"; }
    if (s < 3600) { return Math.floor(s / 60) + " min ago"; }
    if (s < 86400) { return Math.floor(s / 3600) + " h ago"; }
    var d = Math.floor(s / 86400);
    return d + (d === 1 ? " day ago" : " days ago");
  }
  window.sensrAgeText = ageText;
  window.sensrServerNowUs = serverNowUs;

  function part(element, role) { return element.querySelector('[data-role="' + role + '"]'); }

  function render(element) {
    var last = element.getAttribute("data-last-us");
    var state = "new";
    if (last) {
      var age = serverNowUs() - Number(last);
      state = age < Number(element.getAttribute("data-offline-minutes")) * 60e6 ? "online" : "offline";
      part(element, "age").textContent = "last frame " + ageText(age);
    }
    var count = Number(element.getAttribute("data-hour-count"));
    part(element, "hour").textContent = count + (count === 1 ? " frame" : " frames") + " in the last hour";
    if (element.getAttribute("data-state") !== state) {
      element.setAttribute("data-state", state);
      part(element, "state").textContent = LABELS[state];
    }
  }

  function showThumbnail(cameraId, frame) {
    Array.prototype.forEach.call(document.querySelectorAll('img[data-status-thumb="' + cameraId + '"]'),
      function (img) {
        var url = img.getAttribute("data-status-variant") === "image" ? frame.image_url : frame.thumbnail_url;
        var next = new Image();  // swap once loaded: never a blank box in between
        next.onload = function () {
          img.src = url;
          img.hidden = false;
          var empty = img.parentNode.querySelector('[data-role="no-frames"]');
          if (empty) { empty.hidden = true; }
        };
        next.src = url;
      });
  }

  // Frames counted already (delivery is at least once, and the status taken when the
  // stream opens may hold a frame whose event follows): each counts once.
  var counted = {};

  function onFrame(frame) {
    var fresh = !counted[frame.id];
    counted[frame.id] = true;
    statuses.forEach(function (element) {
      if (element.getAttribute("data-status-camera") !== frame.camera_id) { return; }
      var last = Number(element.getAttribute("data-last-us") || 0);
      if (frame.timestamp_us > last) { element.setAttribute("data-last-us", String(frame.timestamp_us)); }
      if (fresh) { element.setAttribute("data-hour-count", String(Number(element.getAttribute("data-hour-count")) + 1)); }
      render(element);
    });
    showThumbnail(frame.camera_id, frame);
    document.dispatchEvent(new CustomEvent("sensr:frame", { detail: frame }));
  }

  // The count of the last hour also drops as frames age out: ask again now and then.
  function refreshCounts() {
    statuses.forEach(function (element) {
      var id = element.getAttribute("data-status-camera");
      var share = new URLSearchParams(window.location.search).get("share");
      fetch("/cameras/" + id + "/status.json" + (share ? "?share=" + encodeURIComponent(share) : ""),
            { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (status) {
          if (!status) { return; }
          element.setAttribute("data-hour-count", String(status.frames_last_hour));
          if (status.last_frame) {
            var newest = status.last_frame.timestamp_us >= Number(element.getAttribute("data-last-us") || 0);
            counted[status.last_frame.id] = true;
            element.setAttribute("data-last-us", String(status.last_frame.timestamp_us));
            if (newest) { showThumbnail(id, status.last_frame); }  // one stored before the stream opened shows too
          }
          render(element);
          document.dispatchEvent(new CustomEvent("sensr:status", { detail: status }));
        }, function () { /* offline for a moment: the next round tries again */ });
    });
  }

  statuses.forEach(render);
  setInterval(function () { statuses.forEach(render); }, 1000);
  setInterval(refreshCounts, 60000);

  if (root && window.EventSource) {
    var source = new EventSource(root.getAttribute("data-events"));
    source.addEventListener("frame", function (event) { onFrame(JSON.parse(event.data)); });
    // Frames stored between the page's rendering and the stream's start are in no event:
    // take the status again once the stream is open (and after each reconnection).
    source.addEventListener("open", refreshCounts);
    window.addEventListener("pagehide", function () { source.close(); });
  }
})();
