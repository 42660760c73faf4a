// The archive's maps (search, cameras, inquiry), drawn with the Leaflet served from /static/vendor/.
// Each map is a <div data-map="ID"> whose settings are the JSON block #ID (longwatch.web.maps.config):
// tiles only from the operator's own tile_url, else the camera points (and any basemap image) alone.
"use strict";
(function () {
  if (typeof L === "undefined") return;
  const made = [];

  function fixed(n) { return (Math.round(n * 100000) / 100000).toString(); }
  function field(id) { return document.getElementById(id); }

  function pointLayer(p, chosen) {
    const cls = "cam" + (chosen ? " chosen" : "") + (p.hits ? " hit" : "");
    const m = L.circleMarker([p.lat, p.lon], {
      radius: p.hits ? 9 : 7, className: cls, weight: 2, color: "#fff",
      fillColor: chosen ? "#d9361e" : (p.hits ? "#1f6fb4" : "#333"), fillOpacity: 0.9,
    });
    m.longwatchCamera = p.id;
    m.longwatchPoint = p;
    m.bindTooltip(p.name + (p.zone ? " (" + p.zone + ")" : "") + (p.hits ? " · " + p.hits : ""));
    m.on("add", function () { const el = m.getElement(); if (el) el.setAttribute("data-camera", p.id); });
    return m;
  }

  function draw(el) {
    const data = JSON.parse(document.getElementById(el.dataset.map).textContent);
    // a map without tiles has no zoom range of its own, and the clusters are built for every level of one
    const map = L.map(el, { attributionControl: false, zoomSnap: 0.5, boxZoom: false, minZoom: 3, maxZoom: 19 });
    if (data.tiles) L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map);
    const bounds = L.latLngBounds([]);
    if (data.basemap) {
      L.imageOverlay(data.basemap.url, data.basemap.bounds).addTo(map);
      bounds.extend(data.basemap.bounds);
    }
    (data.outlines || []).forEach(function (o) {
      L.polygon(o.points, { className: "zone", color: "#1f6fb4", weight: 1, fillColor: "#cfe3f5", fillOpacity: 0.4 })
        .bindTooltip(o.zone).addTo(map);
    });
    const group = data.cluster
      ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 60 })
      : L.featureGroup();
    const markers = data.points.map(function (p) { return pointLayer(p, !!p.chosen); });
    data.points.forEach(function (p) { bounds.extend([p.lat, p.lon]); });
    const state = { map: map, markers: markers, group: group, shape: null };
    if (data.mode === "search") {
      search(map, state, bounds);
      // the hits per camera come with the facet counts, after the page (static/search.js)
      if (window.longwatchHits) showHits(state, window.longwatchHits);
      document.addEventListener("longwatch:hits", function (e) { showHits(state, e.detail); });
    }
    if (data.mode === "inquiry") inquiry(state);
    // the view first: the clusters are made for the zoom the map has when they are added
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.1), { maxZoom: 17 });
    else map.setView([36.5, 127.8], 7);  // no camera has a place yet: the whole country
    group.addTo(map);
    if (data.cluster) group.addLayers(markers); else markers.forEach(function (m) { group.addLayer(m); });
    made.push(state);
  }

  // the search's hits per camera, once counted: a camera with hits is drawn larger, in blue
  function showHits(state, hits) {
    state.markers.forEach(function (m) {
      const p = m.longwatchPoint, n = hits[p.id] || 0;
      p.hits = n;
      if (!p.chosen) m.setStyle({ fillColor: n ? "#1f6fb4" : "#333" });
      m.setRadius(n ? 9 : 7);
      m.options.className = "cam" + (p.chosen ? " chosen" : "") + (n ? " hit" : "");  // a marker drawn later
      m.setTooltipContent(p.name + (p.zone ? " (" + p.zone + ")" : "") + (n ? " · " + n : ""));
      const el = m.getElement();
      if (el) el.classList.toggle("hit", !!n);
    });
  }

  // the search page: a click sets the centre of a radius, "draw a box" drags a box; both fill the form
  function search(map, state, bounds) {
    const near = field("near"), radius = field("radius"), bbox = field("bbox"), button = field("map-box");
    // the box or the circle of the form's fields, drawn; its extent, to show it all when the page opens
    function shape() {
      if (state.shape) { map.removeLayer(state.shape); state.shape = null; }
      const box = (bbox.value || "").split(",").map(parseFloat);
      const at = (near.value || "").split(",").map(parseFloat);
      let extent = null;
      if (box.length === 4 && box.every(isFinite)) {
        extent = L.latLngBounds([box[0], box[1]], [box[2], box[3]]);
        state.shape = L.rectangle(extent, { className: "search-box", weight: 2 });
      } else if (at.length === 2 && at.every(isFinite)) {
        const r = parseFloat(radius.value) || 500;
        extent = L.latLng(at[0], at[1]).toBounds(2 * r);
        state.shape = L.circle(at, { radius: r, className: "search-radius", weight: 2 });
      }
      if (state.shape) state.shape.addTo(map);
      return extent;
    }
    const first = shape();
    if (first) bounds.extend(first);
    radius.addEventListener("input", shape);
    near.addEventListener("change", shape);
    bbox.addEventListener("change", shape);
    let boxing = false, corner = null, suppress = false;
    function boxMode(on) {
      boxing = on;
      button.setAttribute("aria-pressed", on ? "true" : "false");
      map.getContainer().classList.toggle("boxing", on);
      if (on) map.dragging.disable(); else map.dragging.enable();
    }
    if (button) button.addEventListener("click", function () { boxMode(!boxing); });
    map.on("mousedown", function (e) {
      if (!boxing) return;
      corner = e.latlng;
    });
    map.on("mousemove", function (e) {
      if (!boxing || !corner) return;
      if (state.shape) map.removeLayer(state.shape);
      state.shape = L.rectangle(L.latLngBounds(corner, e.latlng), { className: "search-box", weight: 2 }).addTo(map);
    });
    map.on("mouseup", function (e) {
      if (!boxing || !corner) return;
      const b = L.latLngBounds(corner, e.latlng);
      corner = null;
      bbox.value = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map(fixed).join(",");
      near.value = ""; radius.value = "";
      shape();
      boxMode(false);
      suppress = true;  // the click that ends the drag is not a centre point
    });
    map.on("click", function (e) {
      if (boxing) return;
      if (suppress) { suppress = false; return; }
      near.value = fixed(e.latlng.lat) + "," + fixed(e.latlng.lng);
      if (!radius.value) radius.value = "500";
      bbox.value = "";
      shape();
    });
  }

  // the inquiry: a camera point ticks (or unticks) its box in the form; with thousands of cameras the
  // form lists only the chosen ones, so a camera picked on the map gets its box then
  function inquiry(state) {
    state.markers.forEach(function (m) {
      m.on("click", function () {
        let box = document.querySelector('input[type="checkbox"][name="camera"][value="' +
                                         CSS.escape(m.longwatchCamera) + '"]');
        if (!box) {
          const label = document.createElement("label");
          box = document.createElement("input");
          box.type = "checkbox"; box.name = "camera"; box.value = m.longwatchCamera;
          label.appendChild(box);
          label.appendChild(document.createTextNode(" " + m.longwatchCamera + " "));
          const list = document.getElementById("inquiry-cameras");
          list.insertBefore(label, list.querySelector("label[for='camera-id']"));
        }
        box.checked = !box.checked;
        m.setStyle({ fillColor: box.checked ? "#d9361e" : "#333" });
        const path = m.getElement();
        if (path) path.classList.toggle("chosen", box.checked);
      });
    });
  }

  document.querySelectorAll("[data-map]").forEach(draw);
  // for tests and scripts: each map, its markers and its layer of points
  window.longwatchMaps = made;
})();
