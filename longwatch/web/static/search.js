// The search page's facet counts, after the results: the page answers with its results at once and this
// fills the facet panel from /search/facets (the same filters, the same reader's scope). Without
// JavaScript the panel keeps its "show the counts" link, which asks for the page with the counts in it.
"use strict";
(function () {
  const panel = document.getElementById("facets");
  if (!panel || !panel.dataset.src || !window.fetch) return;
  panel.setAttribute("aria-busy", "true");
  fetch(panel.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
    .then(function (html) {
      const made = document.createElement("div");
      made.innerHTML = html;  // the server's own template, escaped there; a JSON block is data, never run
      const fresh = made.querySelector("#facets");
      if (!fresh) return;
      panel.replaceWith(fresh);
      const data = fresh.querySelector("#facet-hits");
      const hits = data ? JSON.parse(data.textContent) : {};
      const kinds = document.getElementById("event-types");
      if (kinds && !kinds.options.length) {
        fresh.querySelectorAll("section[data-facet=event_type] [data-key]").forEach(function (a) {
          const o = document.createElement("option");
          o.value = a.dataset.key;
          kinds.appendChild(o);
        });
      }
      window.longwatchHits = hits;  // for a map drawn after this answer
      document.dispatchEvent(new CustomEvent("longwatch:hits", { detail: hits }));
    })
    .catch(function () { panel.removeAttribute("aria-busy"); });  // the link stays: the counts on request
})();
