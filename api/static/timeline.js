// Sensr web UI: a day's timeline. The day's density comes once, in one-minute buckets
// with each bucket's first frame (timeline.json: at most 1,440 rows however many frames
// the day holds), so dragging needs no request but the thumbnail it shows. When the
// cursor stops, the exact frame (timeline/frame.json) shows full size and the frames
// around it (frames.json) are fetched for stepping and playing; their neighbours'
// images are prefetched. Nothing here loads a page.
// The day is a local day in the page's zone (23, 24 or 25 hours) and every time drawn
// here is in that zone (window.sensrTime, app.js). The strip also shows the frames found
// moving in each minute and the day's motion events (a click shows an event's key frame),
// and a span chosen on it (marks, a length, or Shift-drag) goes to the clip form.
// Zoomed, the strip shows one hour in one-second buckets (timeline.json at step=1: at most
// 3,600 rows); moving past its ends shows the next hour.
"use strict";

(function () {
  var box = document.getElementById("timeline");
  if (!box) { return; }
  var MINUTE = 60e6;
  var camera = box.getAttribute("data-camera-id");
  var since = Number(box.getAttribute("data-since-us"));
  var until = Number(box.getAttribute("data-until-us"));
  var share = box.getAttribute("data-share");
  var strip = document.getElementById("tl-strip");
  var canvas = document.getElementById("tl-density");
  var cursor = document.getElementById("tl-cursor");
  var img = document.getElementById("tl-image");
  var playButton = document.getElementById("tl-play");
  var speedSelect = document.getElementById("tl-speed");
  var HOUR = 60 * MINUTE;
  // The strip's view: the day in minutes, or (zoomed) an hour in seconds.
  var view = { since: since, until: until, step: MINUTE };
  var buckets = 0, counts = [], firstId = [], shownAt = [], moving = [];  // per bucket of the view
  var dayMoving = new Array(Math.round((until - since) / MINUTE)).fill(0);  // frames found moving, per minute of the day
  var dayView = null;  // the day's answer, kept for zooming out
  var t = since;            // the instant the cursor is at
  var frames = [];          // frames around the one shown, in time order
  var pos = -1;             // index of the frame shown in `frames`
  var settleTimer = null;
  var playTimer = null;
  var fetchingMore = null;

  var urls = window.sensrCameraUrls(camera, share), path = urls.path, frameUrl = urls.frameUrl;
  function getJson(rest, params) {
    return fetch(path(rest, params), { credentials: "same-origin" }).then(function (r) {
      if (r.status === 404) { return null; }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }
  function seconds(us) { return Math.floor(us / 1e6) + "." + String(us % 1e6).padStart(6, "0"); }
  function local(us, precise) { return window.sensrTime(us, precise); }
  function clock(us) { return local(us).slice(11); }  // "12:00:00 EST"
  var events = [];  // the day's motion events, oldest first

  // -- the picture: latest wins, never a blank box ----------------------------------
  // While a thumbnail loads, a newer wish waits for it (a fast drag still shows
  // pictures); a full image still loading is given up at once for a thumbnail.
  var wanted = null, loading = null;
  function show(url) {
    wanted = url;
    if (!loading || (/\/image(\?|$)/.test(loading) && url !== loading)) { load(); }
  }
  function load() {
    var url = wanted;
    loading = url;
    var next = new Image();
    next.onload = next.onerror = function () {
      if (loading !== url) { return; }  // given up for a newer one
      img.src = url;
      img.hidden = false;
      loading = null;
      if (wanted !== url) { load(); }
    };
    next.src = url;
  }
  function prefetch(frame, variant) { if (frame) { new Image().src = frameUrl(frame.id, variant || "image"); } }

  // -- the strip --------------------------------------------------------------------
  function draw() {
    var ratio = window.devicePixelRatio || 1;
    var width = strip.clientWidth, height = strip.clientHeight;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    var ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    var color = getComputedStyle(box).getPropertyValue("--heat-4") || "#2f6fdc";
    var max = Math.max.apply(null, counts.concat([1]));
    ctx.fillStyle = color.trim();
    for (var i = 0; i < buckets; i++) {
      if (!counts[i]) { continue; }
      var h = Math.max(2, height * Math.log(counts[i] + 1) / Math.log(max + 1));
      ctx.fillRect(Math.floor(i / buckets * width), height - h, Math.max(1, Math.ceil(width / buckets)), h);
    }
    // Motion from the top down (at most 40 % of the strip), apart from the density below.
    var most = Math.max.apply(null, moving.concat([1]));
    ctx.fillStyle = (getComputedStyle(box).getPropertyValue("--motion") || "#b45309").trim();
    for (var k = 0; k < buckets; k++) {
      if (!moving[k]) { continue; }
      var m = Math.max(2, 0.4 * height * Math.log(moving[k] + 1) / Math.log(most + 1));
      ctx.fillRect(Math.floor(k / buckets * width), 0, Math.max(1, Math.ceil(width / buckets)), m);  // whole pixels: crisp
    }
    drawSelection();
  }
  function fractionOf(instant) { return (instant - view.since) / (view.until - view.since); }
  function bucketAt(instant) { return Math.floor((instant - view.since) / view.step); }
  function percent(fraction) { return (Math.min(1, Math.max(0, fraction)) * 100) + "%"; }
  // Fill the view's buckets from a timeline.json answer: counts, first frames, motion, and
  // for each bucket the one whose first frame shows there (the last non-empty one before).
  function fill(answer, start, end, step) {
    view = { since: start, until: end, step: step };
    buckets = Math.round((end - start) / step);
    counts = new Array(buckets).fill(0);
    firstId = new Array(buckets).fill(null);
    shownAt = new Array(buckets).fill(-1);
    moving = new Array(buckets).fill(0);
    (answer ? answer.buckets : []).forEach(function (b) { counts[b[0]] = b[1]; firstId[b[0]] = b[2]; });
    (answer ? answer.moving : []).forEach(function (b) { moving[b[0]] = b[1]; });
    var last = -1, firstFull = -1;
    for (var i = 0; i < buckets; i++) {
      if (counts[i]) { last = i; if (firstFull < 0) { firstFull = i; } }
      shownAt[i] = last;
    }
    for (var j = 0; j < buckets && shownAt[j] < 0; j++) { shownAt[j] = firstFull; }
    draw();
    drawEvents();
    placeTicks();
    place();
    Array.prototype.forEach.call(box.querySelectorAll(".tl-unit"), function (unit) {
      unit.textContent = step === MINUTE ? "minute" : "second";
    });
  }
  var zoomButton = document.getElementById("tl-zoom");
  var zooming = null;  // the hour being fetched
  function zoomTo(hourStart) {
    if (zooming === hourStart) { return; }
    zooming = hourStart;
    var end = Math.min(until, hourStart + HOUR);
    getJson("/timeline.json", { since: seconds(hourStart), until: seconds(end), step: "1" }).then(function (hour) {
      if (zooming !== hourStart) { return; }  // zoomed out or on meanwhile
      zooming = null;
      fill(hour, hourStart, end, 1e6);
      zoomButton.textContent = "Whole day";
      zoomButton.setAttribute("aria-pressed", "true");
      moveTo(t, true);
    });
  }
  function hourOf(instant) { return since + Math.floor((instant - since) / HOUR) * HOUR; }
  function zoomOut() {
    zooming = null;
    fill(dayView, since, until, MINUTE);
    zoomButton.textContent = "Zoom to the hour";
    zoomButton.setAttribute("aria-pressed", "false");
  }
  function zoomed() { return view.step !== MINUTE; }
  function drawEvents() {
    var row = document.getElementById("tl-events");
    row.textContent = "";
    events.forEach(function (event) {
      if (event.end_us < view.since || event.start_us >= view.until) { return; }  // outside the view
      var mark = document.createElement("span");
      mark.style.left = percent(fractionOf(event.start_us));
      mark.style.width = "calc(" + percent(fractionOf(event.end_us)) + " - " + percent(fractionOf(event.start_us)) + ")";
      row.appendChild(mark);
    });
    var list = document.getElementById("tl-event-items");
    list.textContent = "";
    events.forEach(function (event, n) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "linklike";
      button.setAttribute("data-event", String(n));
      button.textContent = clock(event.start_us) + " – " + clock(event.end_us) + " · " + event.frame_count +
        (event.frame_count === 1 ? " frame" : " frames");
      item.appendChild(button);
      list.appendChild(item);
    });
    document.getElementById("tl-event-count").textContent = String(events.length);
    document.getElementById("tl-event-list").hidden = !events.length;
  }
  function describeActivity(more) {
    var moved = dayMoving.reduce(function (a, b) { return a + b; }, 0);
    var minutes = dayMoving.filter(function (n) { return n > 0; }).length;
    document.getElementById("tl-activity").textContent = !moved && !events.length ? "No motion found on this day." :
      moved.toLocaleString("en") + (moved === 1 ? " frame" : " frames") + " with motion in " + minutes +
      (minutes === 1 ? " minute" : " minutes") + "; " + events.length + (more ? " or more" : "") +
      (events.length === 1 ? " motion event." : " motion events.");
  }
  function jumpToEvent(event) {  // its key frame, or its start where that frame is gone
    if (playTimer) { pause(); }
    moveTo(event.key_frame_us != null ? event.key_frame_us : event.start_us, true);
    settle();
  }
  var tickRow = document.getElementById("tl-hours");
  var hourTicks = Array.prototype.slice.call(tickRow.children);  // the server's: local hours of the day
  function placeTicks() {
    var ticks = hourTicks;
    if (zoomed()) {  // every ten minutes of the hour
      ticks = [];
      for (var at = view.since; at < view.until; at += 10 * MINUTE) {
        var tick = document.createElement("span");
        tick.setAttribute("data-at-us", String(at));
        tick.textContent = clock(at).slice(0, 5);
        ticks.push(tick);
      }
    }
    tickRow.textContent = "";
    ticks.forEach(function (tick) {
      tick.style.left = percent(fractionOf(Number(tick.getAttribute("data-at-us"))));
      tickRow.appendChild(tick);
    });
    tickRow.classList.add("placed");
  }
  function place() {
    if (zoomed() && (t < view.since || t >= view.until)) { zoomTo(hourOf(t)); }  // moved on: the next hour along
    cursor.style.left = percent(fractionOf(t));  // CSSOM, allowed by the page's style-src
    var seconds = Math.floor((t - since) / 1e6);
    strip.setAttribute("aria-valuenow", String(seconds));
    var minute = Math.floor((t - since) / MINUTE);
    strip.setAttribute("aria-valuetext", clock(t) + (dayMoving[minute] ? ", motion" : ""));
    if (!marked) { drawSelection(); }
  }
  function timeAt(clientX) {
    var rect = strip.getBoundingClientRect();
    var fraction = Math.min(1, Math.max(0, (clientX - rect.left) / rect.width));
    return Math.min(view.until - 1, view.since + Math.floor(fraction * (view.until - view.since)));
  }

  // -- moving: thumbnails while moving, the full frame once stopped ------------------
  var fetched = {};  // thumbnails asked for already (the browser caches them: immutable)
  // At most four prefetches at a time, the newest wishes first: of the browser's six
  // connections stay free for the picture that must show now.
  var waiting = [], inFlight = 0;
  function prefetchThumbnails(buckets) {  // nearest first; replaces older wishes
    waiting = buckets.filter(function (b) { return b !== undefined && b >= 0 && !fetched[firstId[b]]; });
    pump();
  }
  function pump() {
    while (inFlight < 4 && waiting.length) {
      var id = firstId[waiting.shift()];
      if (fetched[id]) { continue; }
      fetched[id] = true;
      inFlight++;
      var image = new Image();
      image.onload = image.onerror = function () { inFlight--; pump(); };
      image.src = frameUrl(id, "thumbnail");
    }
  }
  function moveTo(instant, quiet) {
    clearTimeout(fullTimer);  // a step's full frame must not pull the cursor back
    var direction = instant > t ? 1 : -1;
    t = Math.min(until - 1, Math.max(since, instant));
    place();
    var minute = bucketAt(t);  // a bucket of the view: a minute, or zoomed a second
    var bucket = shownAt[minute];
    if (bucket >= 0) {
      fetched[firstId[bucket]] = true;
      show(frameUrl(firstId[bucket], "thumbnail"));
      // The next four pictures the way the cursor goes: there before it is (a drag
      // moves a minute or two a step; four ahead keep a step or two in hand).
      var ahead = [];
      for (var step = 1, last = bucket; ahead.length < 4 && step < 30; step++) {
        var next = shownAt[minute + direction * step];
        if (next === undefined) { break; }
        if (next >= 0 && next !== last) { ahead.push(next); last = next; }
      }
      prefetchThumbnails(ahead);
    }
    clearTimeout(settleTimer);
    if (!quiet) { settleTimer = setTimeout(settle, 180); }
  }
  function settle() {
    var asked = t;
    return getJson("/timeline/frame.json", { at: seconds(t) }).then(function (frame) {
      if (!frame || t !== asked) { return; }  // moved on meanwhile
      frames = [frame];
      pos = 0;
      display(frame, true);
      var minute = bucketAt(frame.timestamp_us);  // a drag from here starts in cache
      prefetchThumbnails([shownAt[minute], shownAt[minute + 1], shownAt[minute - 1]]);
      return around(frame);
    });
  }
  function around(frame) {
    var before = getJson("/frames.json", { until: seconds(frame.timestamp_us + 1), order: "desc", limit: "20" });
    var after = getJson("/frames.json", { since: seconds(frame.timestamp_us), limit: "20" });
    return Promise.all([before, after]).then(function (pages) {
      var seen = {}, merged = [];
      (pages[0] ? pages[0].frames.slice().reverse() : []).concat(pages[1] ? pages[1].frames : [])
        .forEach(function (f) { if (!seen[f.id]) { seen[f.id] = true; merged.push(f); } });
      if (frames[pos] && frames[pos].id !== frame.id) { return; }  // moved on meanwhile
      frames = merged;
      pos = merged.findIndex(function (f) { return f.id === frame.id; });
      prefetch(frames[pos - 1], "thumbnail");  // a step shows these at once; its full image follows
      prefetch(frames[pos + 1], "thumbnail");
    });
  }
  function more() {  // the next frames after the window, for stepping and playing
    if (fetchingMore) { return fetchingMore; }
    var last = frames[frames.length - 1];
    fetchingMore = getJson("/frames.json", { since: seconds(last.timestamp_us), limit: "100" })
      .then(function (page) {
        var known = {};
        frames.forEach(function (f) { known[f.id] = true; });
        (page ? page.frames : []).forEach(function (f) { if (!known[f.id] && f.timestamp_us < until) { frames.push(f); } });
        fetchingMore = null;
      }, function () { fetchingMore = null; });
    return fetchingMore;
  }
  function less() {
    var first = frames[0];
    return getJson("/frames.json", { until: seconds(first.timestamp_us), order: "desc", limit: "100" })
      .then(function (page) {
        var added = (page ? page.frames : []).filter(function (f) { return f.timestamp_us >= since; }).reverse();
        frames = added.concat(frames);
        pos += added.length;
      });
  }
  function display(frame, full) {
    t = frame.timestamp_us;
    place();
    show(frameUrl(frame.id, full ? "image" : "thumbnail"));
    var time = document.getElementById("tl-time");
    time.textContent = local(frame.timestamp_us, true);
    time.setAttribute("datetime", new Date(frame.timestamp_us / 1000).toISOString());
    if (document.documentElement.getAttribute("data-zone") !== "UTC") {  // as app.js's tooltips: the UTC time
      time.title = window.sensrWallClock(frame.timestamp_us) + " UTC";
    }
    document.getElementById("tl-open").href = frameUrl(frame.id);
    var cameraTime = document.getElementById("tl-camera-time");
    var offset = document.getElementById("tl-offset");
    cameraTime.textContent = frame.camera_time_us != null ? "camera clock " + window.sensrWallClock(frame.camera_time_us, true) : "";
    var off = frame.camera_clock_offset_s;
    offset.hidden = off == null || Math.abs(off) <= 60;
    if (!offset.hidden) { offset.textContent = "camera clock " + window.sensrClockOffsetText(off); }
    var params = new URLSearchParams(window.location.search);
    params.set("at", String(frame.timestamp_us));
    history.replaceState(null, "", window.location.pathname + "?" + params.toString());
  }

  // -- stepping frame by frame (no press is lost) ------------------------------------
  var steps = 0, stepping = false, fullTimer = null;
  function step(delta) {
    clearTimeout(settleTimer);  // a step starts from the frame shown, not from a drag's end
    steps += delta;
    if (!stepping) { drain(); }
  }
  function drain() {
    if (!steps || pos < 0) { stepping = false; return; }
    stepping = true;
    var direction = steps > 0 ? 1 : -1;
    var target = pos + direction;
    var ready = target < 0 ? less() : (target >= frames.length ? more() : Promise.resolve());
    ready.then(function () {
      target = pos + direction;
      steps -= direction;
      if (target < 0 || target >= frames.length) { steps = 0; stepping = false; return; }
      pos = target;
      display(frames[pos], false);
      prefetch(frames[pos + direction]);
      clearTimeout(fullTimer);
      fullTimer = setTimeout(function () { display(frames[pos], true); }, 150);
      drain();
    }, function () { steps = 0; stepping = false; });
  }

  // -- playing: a flip-book at 1x-60x ------------------------------------------------
  function play() {
    if (pos < 0) { return; }
    playButton.textContent = "Pause";
    playButton.setAttribute("aria-pressed", "true");
    var clock = frames[pos].timestamp_us, lastTick = performance.now();
    playTimer = setInterval(function () {
      var now = performance.now(), speed = Number(speedSelect.value);
      clock += (now - lastTick) * 1000 * speed;
      lastTick = now;
      if (frames.length - pos < 20) { more(); }
      var next = pos;
      while (next + 1 < frames.length && frames[next + 1].timestamp_us <= clock) { next++; }
      if (next + 1 < frames.length && (frames[next + 1].timestamp_us - clock) / speed > 2e6) {
        clock = frames[next + 1].timestamp_us;  // skip a long gap
        next++;
      }
      if (next === frames.length - 1 && !fetchingMore && frames[next].timestamp_us <= clock) {
        more().then(function () { if (pos === frames.length - 1) { pause(); } });
      }
      if (next !== pos) {
        pos = next;
        display(frames[pos], speed < 10);
        prefetch(frames[pos + 1]);
      }
    }, 100);
  }
  function pause() {
    clearInterval(playTimer);
    playTimer = null;
    playButton.textContent = "Play";
    playButton.setAttribute("aria-pressed", "false");
    if (pos >= 0) { display(frames[pos], true); }
  }
  playButton.addEventListener("click", function () { if (playTimer) { pause(); } else { play(); } });

  // -- a clip's span: where the cursor is for a length, or marked ----------------------
  // Until a mark is set the span follows the cursor; the clip form (clip_form.html, the
  // day and hour pages' own) gets it in its since/until fields.
  var clipForm = document.querySelector("#tl-clip form.clip-form");
  var lengthSelect = document.getElementById("tl-clip-length");
  var band = document.getElementById("tl-selection-band");
  var marked = false, spanStart = since, spanEnd = until;
  function clipLength() { return Number(lengthSelect ? lengthSelect.value : 5) * MINUTE; }
  function clipSpan() {
    if (marked) { return [spanStart, spanEnd]; }
    return [t, Math.min(until, t + (clipLength() || 5 * MINUTE))];
  }
  function drawSelection() {
    if (!clipForm) { return; }
    var span = clipSpan();
    band.hidden = !marked;
    band.style.left = percent(fractionOf(span[0]));
    band.style.width = "calc(" + percent(fractionOf(span[1])) + " - " + percent(fractionOf(span[0])) + ")";
    clipForm.querySelector('input[name="since"]').value = String(span[0]);
    clipForm.querySelector('input[name="until"]').value = String(span[1]);
    var minutes = Math.round((span[1] - span[0]) / MINUTE);
    document.getElementById("tl-clip-span").textContent = clock(span[0]) + " – " + clock(span[1]) + " (" +
      (minutes >= 1 ? minutes + " min" : Math.round((span[1] - span[0]) / 1e6) + " s") + ")";
  }
  function mark(start, end) {
    marked = true;
    spanStart = Math.max(since, Math.min(start, end));
    spanEnd = Math.min(until, Math.max(start, end));
    if (spanEnd <= spanStart) { spanEnd = Math.min(until, spanStart + MINUTE); }
    drawSelection();
  }
  if (clipForm) {
    document.getElementById("tl-mark-start").addEventListener("click", function () {
      var end = marked && spanEnd > t && !clipLength() ? spanEnd : t + (clipLength() || 5 * MINUTE);
      mark(t, end);
    });
    document.getElementById("tl-mark-end").addEventListener("click", function () {
      mark(marked && spanStart < t ? spanStart : Math.max(since, t - (clipLength() || 5 * MINUTE)), t);
    });
    lengthSelect.addEventListener("change", function () {
      if (marked && clipLength()) { mark(spanStart, spanStart + clipLength()); } else { drawSelection(); }
    });
    document.getElementById("tl-clip-clear").addEventListener("click", function () { marked = false; drawSelection(); });
  }

  // -- input: drag, keys, wheel, swipe -----------------------------------------------
  var dragging = false, selectingFrom = null;
  strip.addEventListener("pointerdown", function (event) {
    dragging = true;
    strip.setPointerCapture(event.pointerId);
    if (playTimer) { pause(); }
    selectingFrom = event.shiftKey && clipForm ? timeAt(event.clientX) : null;
    moveTo(timeAt(event.clientX), true);
  });
  strip.addEventListener("pointermove", function (event) {
    if (!dragging) { return; }
    moveTo(timeAt(event.clientX), true);
    if (selectingFrom !== null) { mark(selectingFrom, t); }
  });
  document.getElementById("tl-events").addEventListener("click", function (event) {
    if (!events.length) { return; }
    var at = timeAt(event.clientX), rect = this.getBoundingClientRect();
    var slack = 6 / rect.width * (view.until - view.since);  // a few pixels either side of a thin mark
    var shown = events.filter(function (e) { return e.end_us >= view.since && e.start_us < view.until; });
    if (!shown.length) { return; }
    var hit = shown.filter(function (e) { return e.start_us - slack <= at && at <= e.end_us + slack; });
    var nearest = (hit.length ? hit : shown).reduce(function (best, e) {
      var d = Math.abs((e.start_us + e.end_us) / 2 - at), b = Math.abs((best.start_us + best.end_us) / 2 - at);
      return d < b ? e : best;
    });
    jumpToEvent(nearest);
  });
  document.getElementById("tl-event-items").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-event]");
    if (button) { jumpToEvent(events[Number(button.getAttribute("data-event"))]); }
  });
  function endDrag() { if (dragging) { dragging = false; moveTo(t); } }
  strip.addEventListener("pointerup", endDrag);
  strip.addEventListener("pointercancel", endDrag);

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      var direction = event.key === "ArrowRight" ? 1 : -1;
      if (event.shiftKey) { moveTo(t + direction * MINUTE); } else { step(direction); }
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      moveTo(event.key === "Home" ? since : until - 1);
    } else if (event.key === " " && event.target === strip) {
      event.preventDefault();
      playButton.click();
    }
  });
  function onWheel(event) {
    event.preventDefault();
    var notches = Math.max(-10, Math.min(10, Math.round(event.deltaY / 100) || Math.sign(event.deltaY)));
    moveTo(t + notches * (event.shiftKey ? 10 : 1) * (zoomed() ? 10e6 : MINUTE));  // zoomed: ten seconds a notch
  }
  strip.addEventListener("wheel", onWheel, { passive: false });
  document.getElementById("tl-view").addEventListener("wheel", onWheel, { passive: false });
  var touchX = null;
  document.getElementById("tl-view").addEventListener("touchstart", function (event) {
    touchX = event.touches[0].clientX;
  }, { passive: true });
  document.getElementById("tl-view").addEventListener("touchend", function (event) {
    if (touchX === null) { return; }
    var dx = event.changedTouches[0].clientX - touchX;
    touchX = null;
    if (Math.abs(dx) > 40) { step(dx < 0 ? 1 : -1); }  // swipe left: the next frame
  });
  document.getElementById("tl-previous").addEventListener("click", function () { step(-1); });
  document.getElementById("tl-next").addEventListener("click", function () { step(1); });
  window.addEventListener("resize", draw);
  zoomButton.addEventListener("click", function () { if (zoomed() || zooming !== null) { zoomOut(); } else { zoomTo(hourOf(t)); } });
  placeTicks();

  // -- start -------------------------------------------------------------------------
  getJson("/timeline.json", { since: seconds(since), until: seconds(until), step: "60" }).then(function (day) {
    var total = day ? day.total : 0;
    document.getElementById("tl-total").textContent = total.toLocaleString("en") + (total === 1 ? " frame" : " frames");
    (day ? day.moving : []).forEach(function (b) { dayMoving[b[0]] = b[1]; });
    events = day ? day.events : [];
    dayView = day;
    fill(day, since, until, MINUTE);
    describeActivity(day && day.more_events);
    if (!total) {
      document.getElementById("tl-empty").hidden = false;
      place();
      return;
    }
    var at = Number(box.getAttribute("data-at-us"));
    moveTo(at >= since && at < until ? at : (day.buckets[0][3]), true);
    settle();
  });
})();
