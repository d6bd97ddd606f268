// Sensr web UI: the camera page's calendar follows the frames stored while it is open
// (status.js's `sensr:frame` events, from the page's status stream): the count of the
// frame's day in the month (its local day, in the page's zone), of its hour in the day
// shown, and their totals, without a reload. An hour that had no frames becomes a link.
"use strict";

(function () {
  var month = document.querySelector("table.month[data-camera-id]");
  if (!month) { return; }
  var camera = month.getAttribute("data-camera-id");
  var share = new URLSearchParams(window.location.search).get("share");
  var seen = {};  // delivery is at least once: each frame counts once
  // The page's counts already hold every frame up to the latest one when it was made
  // (counted after it): the stream may announce those again.
  var countedThrough = Number(month.getAttribute("data-counted-through-us") || 0);

  function frames(n) { return n.toLocaleString("en") + (n === 1 ? " frame" : " frames"); }
  function bump(element) {
    var n = Number(element.getAttribute("data-count") || element.getAttribute("data-total") || 0) + 1;
    element.setAttribute(element.hasAttribute("data-total") ? "data-total" : "data-count", String(n));
    return n;
  }
  function shade(cell) { if (cell.classList.contains("level-0")) { cell.classList.replace("level-0", "level-1"); } }
  function countIn(link, n) {
    var count = link.querySelector(".count");
    if (!count) {
      count = document.createElement("span");
      count.className = "count";
      link.appendChild(count);
    }
    count.textContent = String(n);
    var label = link.getAttribute("aria-label") || "", said = /: (no|[\d,]+) frames?/;  // "Monday 02 March: 3 frames"
    link.setAttribute("aria-label", said.test(label) ? label.replace(said, ": " + frames(n)) : label + ": " + frames(n));
  }

  function onFrame(frame) {
    if (frame.camera_id !== camera || seen[frame.id] || frame.timestamp_us <= countedThrough) { return; }
    seen[frame.id] = true;
    var day = month.querySelector('a[data-day="' + window.sensrTime(frame.timestamp_us).slice(0, 10) + '"]');
    if (day) {
      countIn(day, bump(day));
      shade(day.parentNode);
      var total = document.getElementById("month-total");
      total.textContent = frames(bump(total));
    }
    // Hours are named by their UTC start (`2026-11-25T14`), as the hour pages are.
    var hourKey = new Date(Math.floor(frame.timestamp_us / 1000)).toISOString().slice(0, 13);
    var hour = document.querySelector('ol.hours li[data-hour-key="' + hourKey + '"]');
    if (!hour) { return; }
    var link = hour.querySelector("a");
    if (!link) {  // the hour's first frame: it opens now
      link = document.createElement("a");
      link.href = "/cameras/" + encodeURIComponent(camera) + "/hours/" + hourKey +
        (share ? "?share=" + encodeURIComponent(share) : "");
      link.setAttribute("data-hour", hourKey);
      link.setAttribute("aria-label", hour.querySelector(".hour").textContent);
      while (hour.firstChild) { link.appendChild(hour.firstChild); }
      hour.appendChild(link);
    }
    countIn(link, bump(hour));
    shade(hour);
    var dayTotal = document.getElementById("day-total");
    if (dayTotal) { dayTotal.textContent = frames(bump(dayTotal)); }
  }

  // Frames stored between the page's making and its stream's start are in no event: each
  // time the status is taken again (status.js: once the stream is open, after each
  // reconnection, then every minute), count those after the mark that are not counted yet.
  function catchUp() {
    var after = countedThrough + 1;
    var q = new URLSearchParams({ since: Math.floor(after / 1e6) + "." + String(after % 1e6).padStart(6, "0"),
                                  order: "asc", limit: "200" });
    if (share) { q.set("share", share); }
    fetch("/cameras/" + encodeURIComponent(camera) + "/frames.json?" + q, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) { if (page) { page.frames.forEach(onFrame); } }, function () { /* the next round */ });
  }

  document.addEventListener("sensr:frame", function (event) { onFrame(event.detail); });
  document.addEventListener("sensr:status", function (event) {
    if (event.detail.camera_id === camera) { catchUp(); }
  });
})();
