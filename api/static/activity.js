// Sensr web UI, motion activity: the event player, the sensitivity slider's read-out and
// the ignore-zone editor. Every page works without this script (the event shows its key
// frame and links to each frame; zones already set are kept).
"use strict";

(function () {
  // Event player: steps through the event's frames (data-frames: [{image, time, id}]).
  var player = document.getElementById("event-player");
  if (player) {
    var frames = JSON.parse(player.getAttribute("data-frames"));
    var image = document.getElementById("event-image");
    var caption = document.getElementById("event-time");
    var play = document.getElementById("event-play");
    var scrub = document.getElementById("event-scrub");
    var position = document.getElementById("event-position");
    var current = parseInt(player.getAttribute("data-start"), 10) || 0;
    var timer = null;
    var show = function (n) {
      current = (n + frames.length) % frames.length;
      image.src = frames[current].image;
      caption.textContent = frames[current].time;
      scrub.value = String(current + 1);
      position.textContent = String(current + 1);
      player.setAttribute("data-position", String(current));
      if (current + 1 < frames.length) { new Image().src = frames[current + 1].image; }  // preload the next
    };
    var stop = function () {
      if (timer !== null) { clearInterval(timer); timer = null; }
      play.textContent = "Play";
      play.setAttribute("aria-pressed", "false");
    };
    play.addEventListener("click", function () {
      if (timer !== null) { stop(); return; }
      if (current === frames.length - 1) { show(0); }
      play.textContent = "Pause";
      play.setAttribute("aria-pressed", "true");
      timer = setInterval(function () {
        if (current === frames.length - 1) { stop(); return; }
        show(current + 1);
      }, 250);
    });
    document.getElementById("event-previous").addEventListener("click", function () { stop(); show(current - 1); });
    document.getElementById("event-next").addEventListener("click", function () { stop(); show(current + 1); });
    scrub.addEventListener("input", function () { stop(); show(parseInt(scrub.value, 10) - 1); });
    player.querySelector(".player-controls").hidden = false;
    player.setAttribute("data-position", String(current));
  }

  // Sensitivity slider: show the chosen value beside its label.
  var slider = document.getElementById("sensitivity");
  if (slider) {
    var value = document.getElementById("sensitivity-value");
    slider.addEventListener("input", function () { value.textContent = slider.value; });
  }

  // Ignore zones: drag rectangles over the latest frame; kept as fractions of the picture
  // in the form's hidden field, so they stay in place when the resolution changes.
  var field = document.getElementById("ignore-zones");
  if (field) {
    var editor = document.getElementById("zone-editor");
    var list = document.getElementById("zone-list");
    var zones = JSON.parse(field.value || "[]");
    var round = function (x) { return Math.round(Math.min(1, Math.max(0, x)) * 10000) / 10000; };
    var percent = function (x) { return Math.round(x * 100) + " %"; };
    var place = function (box, zone) {
      box.style.left = (zone.left * 100) + "%";
      box.style.top = (zone.top * 100) + "%";
      box.style.width = ((zone.right - zone.left) * 100) + "%";
      box.style.height = ((zone.bottom - zone.top) * 100) + "%";
    };
    var render = function () {
      field.value = JSON.stringify(zones);
      list.textContent = "";
      if (editor) {
        Array.prototype.forEach.call(editor.querySelectorAll(".zone"), function (box) { box.remove(); });
      }
      zones.forEach(function (zone, n) {
        if (editor) {
          var box = document.createElement("div");
          box.className = "zone";
          box.setAttribute("data-zone", String(n + 1));
          box.textContent = String(n + 1);
          place(box, zone);
          editor.appendChild(box);
        }
        var item = document.createElement("li");
        item.textContent = "Zone " + (n + 1) + ": from " + percent(zone.left) + " to " + percent(zone.right) +
          " across, " + percent(zone.top) + " to " + percent(zone.bottom) + " down ";
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button secondary small";
        remove.textContent = "Remove zone " + (n + 1);
        remove.addEventListener("click", function () { zones.splice(n, 1); render(); });
        item.appendChild(remove);
        list.appendChild(item);
      });
    };
    document.getElementById("zones-clear").addEventListener("click", function () { zones = []; render(); });
    if (editor) {
      var start = null;
      var drawing = null;
      var at = function (event) {
        var frame = editor.getBoundingClientRect();
        return { x: round((event.clientX - frame.left) / frame.width), y: round((event.clientY - frame.top) / frame.height) };
      };
      var spanned = function (a, b) {
        return { left: Math.min(a.x, b.x), top: Math.min(a.y, b.y), right: Math.max(a.x, b.x), bottom: Math.max(a.y, b.y) };
      };
      editor.addEventListener("pointerdown", function (event) {
        event.preventDefault();
        editor.setPointerCapture(event.pointerId);
        start = at(event);
        drawing = document.createElement("div");
        drawing.className = "zone drawing";
        place(drawing, spanned(start, start));
        editor.appendChild(drawing);
      });
      editor.addEventListener("pointermove", function (event) {
        if (start !== null) { place(drawing, spanned(start, at(event))); }
      });
      var finish = function (event) {
        if (start === null) { return; }
        var zone = spanned(start, at(event));
        start = null;
        drawing.remove();
        if (zone.right - zone.left >= 0.01 && zone.bottom - zone.top >= 0.01) { zones.push(zone); }
        render();
      };
      editor.addEventListener("pointerup", finish);
      editor.addEventListener("pointercancel", finish);
    }
    render();
  }
})();
