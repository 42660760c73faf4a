// A small tus 1.0 client (creation, core, checksum): no external code, no CDN.
// Resumes from the server's offset after a dropped connection or a reload
// (the upload URL is kept in localStorage under the file's name, size and date).
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const CHUNK = parseInt(form.dataset.chunk, 10) || 8 * 1024 * 1024;
  const bar = document.getElementById("progress");
  const status = document.getElementById("upload-status");
  const result = document.getElementById("upload-result");
  const csrf = form.dataset.csrf;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
  const b64buf = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
  const base = { "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrf };

  async function create(file, meta) {
    const pairs = Object.entries(meta).filter(([, v]) => v).map(([k, v]) => k + " " + b64(v));
    const res = await fetch(form.dataset.endpoint, {
      method: "POST", credentials: "same-origin",
      headers: Object.assign({ "Upload-Length": String(file.size), "Upload-Metadata": pairs.join(",") }, base),
    });
    if (res.status !== 201) throw new Error((await res.json()).error.message);
    return res.headers.get("Location");
  }

  async function offsetOf(url) {
    const res = await fetch(url, { method: "HEAD", credentials: "same-origin", headers: base });
    if (res.status !== 200) return null;
    return parseInt(res.headers.get("Upload-Offset"), 10);
  }

  async function send(file, url, offset) {
    while (offset < file.size) {
      const piece = await file.slice(offset, Math.min(offset + CHUNK, file.size)).arrayBuffer();
      const digest = await crypto.subtle.digest("SHA-256", piece);
      const res = await fetch(url, {
        method: "PATCH", credentials: "same-origin", body: piece,
        headers: Object.assign({ "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset),
                                 "Upload-Checksum": "sha256 " + b64buf(digest) }, base),
      });
      if (res.status === 204) {
        offset = parseInt(res.headers.get("Upload-Offset"), 10);
        bar.value = Math.floor((100 * offset) / file.size);
        status.textContent = form.dataset.msgSending + " " + bar.value + "%";
        continue;
      }
      let body = null;
      try { body = await res.json(); } catch (e) { body = null; }
      const err = new Error(body ? "[" + body.error.code + "] " + body.error.message : "HTTP " + res.status);
      err.fatal = res.status !== 409 && res.status !== 460 && res.status < 500;
      throw err;
    }
  }

  // Every byte is sent; the package is made after the last one (by this request, or after a restart).
  async function outcome(url) {
    for (let i = 0; ; i++) {
      const res = await fetch(url, { credentials: "same-origin", headers: base });
      if (res.status !== 200) {
        const err = new Error(form.dataset.msgFailed + " (HTTP " + res.status + ")");
        err.fatal = res.status < 500;
        throw err;
      }
      const done = await res.json();
      if (done.status !== "archiving" && done.status !== "receiving") return done;
      status.textContent = form.dataset.msgArchiving + (done.error ? " (" + done.error + ")" : "");
      await sleep(Math.min(1000 * (i + 1), 5000));
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = document.getElementById("file").files[0];
    if (!file) return;
    const key = "tus:" + file.name + ":" + file.size + ":" + file.lastModified;
    const meta = { filename: file.name, camera: form.camera ? form.camera.value : "", title: form.title.value };
    let url = localStorage.getItem(key);
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        let offset = url ? await offsetOf(url) : null;
        if (offset === null) { url = await create(file, meta); offset = 0; localStorage.setItem(key, url); }
        await send(file, url, offset);
        const done = await outcome(url);
        localStorage.removeItem(key);
        if (done.status !== "archived" || !done.package_id) {
          // say what happened: never "archived" for an upload that failed or has no package
          status.textContent = form.dataset.msgFailed + (done.error ? ": " + done.error : "");
          result.replaceChildren();
          return;
        }
        bar.value = 100;
        status.textContent = form.dataset.msgDone + " " + done.package_id;
        const link = document.createElement("a");
        link.href = "/packages/" + done.package_id;
        link.textContent = done.package_id;
        link.id = "package-link";
        result.replaceChildren(link);
        return;
      } catch (e) {
        if (e.fatal) { status.textContent = form.dataset.msgFailed + ": " + e.message; localStorage.removeItem(key); return; }
        status.textContent = form.dataset.msgRetry;
        await sleep(Math.min(1000 * (attempt + 1), 10000));
      }
    }
    status.textContent = form.dataset.msgFailed;
  });
})();
