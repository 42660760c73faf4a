// Synchronised playback for the inquiry workspace: one clock (seconds since the epoch, UTC) drives
// every video; each video shows clock - its clip's start. Seeking moves all of them together.
"use strict";
(function () {
  const section = document.getElementById("sync");
  // the map: clicking a camera point ticks its box
  document.querySelectorAll("circle.cam").forEach(function (dot) {
    dot.addEventListener("click", function () {
      const box = document.querySelector('input[name="camera"][value="' + dot.dataset.camera + '"]');
      if (box) { box.checked = !box.checked; dot.classList.toggle("chosen", box.checked); }
    });
  });
  if (!section) return;
  const videos = Array.from(section.querySelectorAll("video.sync"));
  const spanStart = parseFloat(section.dataset.spanStart);
  const spanEnd = parseFloat(section.dataset.spanEnd);
  const seek = document.getElementById("seek");
  const play = document.getElementById("play");
  const out = document.getElementById("now");
  const noteAt = document.getElementById("note-at");
  let clock = spanStart;
  let playing = false;
  let wallStart = 0;
  let clockAtWall = spanStart;

  function offsetOf(v, t) { return t - parseFloat(v.dataset.start); }

  function place(t) {
    clock = Math.min(Math.max(t, spanStart), spanEnd);
    videos.forEach(function (v) {
      const off = offsetOf(v, clock);
      const dur = isFinite(v.duration) ? v.duration : Infinity;
      if (off >= 0 && off <= dur) { v.currentTime = off; v.classList.remove("out"); }
      else { v.pause(); v.classList.add("out"); }
    });
    show();
  }

  function show() {
    const iso = new Date(clock * 1000).toISOString().replace(".000Z", "Z");
    out.textContent = iso;
    seek.value = String(clock);
    if (noteAt) noteAt.value = iso;
  }

  function tick(now) {
    if (!playing) return;
    clock = clockAtWall + (now - wallStart) / 1000;
    if (clock >= spanEnd) { stop(); return; }
    videos.forEach(function (v) {
      const off = offsetOf(v, clock);
      if (off < 0 || (isFinite(v.duration) && off > v.duration)) { v.pause(); return; }
      if (v.paused) v.play().catch(function () {});
      if (Math.abs(v.currentTime - off) > 0.1) v.currentTime = off;  // keep every player on the one clock
    });
    show();
    requestAnimationFrame(tick);
  }

  function start() {
    playing = true; play.textContent = play.dataset.pause || "❚❚";
    wallStart = performance.now(); clockAtWall = clock;
    requestAnimationFrame(tick);
  }

  function stop() {
    playing = false; play.textContent = play.dataset.play || "▶";
    videos.forEach(function (v) { v.pause(); });
  }

  play.dataset.play = play.textContent;
  play.addEventListener("click", function () { if (playing) stop(); else start(); });
  seek.addEventListener("input", function () {
    const was = playing;
    if (was) stop();
    place(parseFloat(seek.value));
    if (was) start();
  });
  section.querySelectorAll("rect.event").forEach(function (r) {
    r.addEventListener("click", function () { place(parseFloat(r.dataset.t)); });
  });
  document.querySelectorAll(".seek-to, circle.note").forEach(function (n) {
    const t = Date.parse(n.dataset.at) / 1000;
    if (n.tagName.toLowerCase() === "circle") n.setAttribute("cx", String((t - spanStart) / ((spanEnd - spanStart) || 1) * 1000));
    n.addEventListener("click", function () { place(t); });
  });
  // for tests and scripts: the one clock and a seek that moves every player
  window.longwatchSync = { seek: place, clock: function () { return clock; }, play: start, pause: stop };
  place(spanStart);
})();
