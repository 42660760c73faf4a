// Synchronised playback for the inquiry workspace: one clock (seconds since the epoch, UTC) drives
// every video; each video is one camera's player and shows, of that camera's clips in the span
// (data-clips), the one the clock is in, at clock - that clip's start. Seeking moves all of them together,
// and a player goes on to the camera's next clip when the clock leaves one. (The map is static/maps.js.)
"use strict";
(function () {
  const section = document.getElementById("sync");
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

  // each player's clips, oldest first; a clip of unknown length lasts until the next one starts
  videos.forEach(function (v) {
    const clips = JSON.parse(v.dataset.clips || "[]");
    clips.forEach(function (c, i) {
      const next = i + 1 < clips.length ? clips[i + 1].start : Infinity;
      c.end = c.duration > 0 ? c.start + c.duration : next;
    });
    v.longwatchClips = clips;
    v.dataset.clip = clips.length ? String(clips[0].clip_id) : "";
  });

  function clipAt(v, t) {
    const clips = v.longwatchClips;
    for (let i = 0; i < clips.length; i++) if (t >= clips[i].start && t < clips[i].end) return clips[i];
    return null;
  }

  // the player shows clip c: switch its source when the clock has moved into another clip of the camera
  function showClip(v, c) {
    if (v.dataset.clip === String(c.clip_id)) return false;
    v.dataset.clip = String(c.clip_id);
    v.dataset.start = String(c.start);
    v.src = c.src;
    const link = v.parentElement.querySelector("a.package-link");
    if (link) { link.href = link.href.replace(/[^/]+$/, c.package_id); link.textContent = c.package_id.slice(0, 8); }
    v.addEventListener("loadedmetadata", function () {
      const off = offsetOf(v, clock);
      if (off >= 0) v.currentTime = off;
      if (playing) v.play().catch(function () {});
    }, { once: true });
    return true;
  }

  function place(t) {
    clock = Math.min(Math.max(t, spanStart), spanEnd);
    videos.forEach(function (v) {
      const c = clipAt(v, clock);
      if (!c) { v.pause(); v.classList.add("out"); return; }
      v.classList.remove("out");
      if (showClip(v, c)) return;  // seeks once the new clip's metadata is in
      const off = offsetOf(v, clock);
      const dur = isFinite(v.duration) ? v.duration : Infinity;
      if (off >= 0 && off <= dur) v.currentTime = off;
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
      const c = clipAt(v, clock);
      if (!c) { v.pause(); v.classList.add("out"); return; }
      v.classList.remove("out");
      if (showClip(v, c)) return;  // the camera's next clip: it plays once loaded
      if (v.readyState < 1) return;
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
  window.longwatchSync = { seek: place, clock: function () { return clock; }, play: start, pause: stop,
    clips: function () { return videos.map(function (v) { return v.dataset.clip; }); } };
  place(spanStart);
})();
