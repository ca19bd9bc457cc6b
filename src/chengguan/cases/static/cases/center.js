/* chengguan command center: board keyboard and live refresh, case page map and forms. No build step. */
(function () {
  "use strict";

  var BOARD_KEY = "cc-board";           // sessionStorage: the last board's URL and its case numbers
  var SELECTED_KEY = "cc-selected:";    // sessionStorage: the selected row, per board URL

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function plainKey(event) {
    return !(event.ctrlKey || event.metaKey || event.altKey);
  }

  function store(key, value) {
    try { sessionStorage.setItem(key, value); } catch (e) { /* private mode: no memory, still usable */ }
  }

  function recall(key) {
    try { return sessionStorage.getItem(key); } catch (e) { return null; }
  }

  // ------------------------------------------------------------------------------------------
  // the board

  function initBoard(board) {
    var boardUrl = location.pathname + location.search;
    var selected = recall(SELECTED_KEY + boardUrl);
    var before = null;

    function rows() {
      return Array.prototype.slice.call(board.querySelectorAll("tbody tr[data-number]"));
    }

    function remember() {
      store(BOARD_KEY, JSON.stringify({ url: boardUrl, numbers: rows().map(function (r) { return r.dataset.number; }) }));
    }

    function select(row, scroll) {
      rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
      if (!row) return;
      row.classList.add("selected");
      row.setAttribute("aria-selected", "true");
      selected = row.dataset.number;
      store(SELECTED_KEY + boardUrl, selected);
      if (scroll) row.scrollIntoView({ block: "nearest" });
    }

    function current() {
      var list = rows();
      for (var i = 0; i < list.length; i++) if (list[i].dataset.number === selected) return i;
      return -1;
    }

    function move(step) {
      var list = rows();
      if (!list.length) return;
      var i = current();
      i = i < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, i + step));
      select(list[i], true);
    }

    function open(newTab) {
      var list = rows();
      var i = current();
      if (i < 0) return;
      if (newTab) window.open(list[i].dataset.href, "_blank");
      else location.href = list[i].dataset.href;
    }

    function restore() {
      var list = rows();
      var i = current();
      if (i >= 0) select(list[i], false);
      if (before) {
        list.forEach(function (r) { if (!before[r.dataset.number]) r.classList.add("fresh"); });
      }
      remember();
    }

    board.addEventListener("click", function (event) {
      var row = event.target.closest("tr[data-number]");
      if (!row || event.target.closest("a, button, input, select, label")) return;
      select(row, false);
      if (event.ctrlKey || event.metaKey) window.open(row.dataset.href, "_blank");
      else location.href = row.dataset.href;
    });

    board.addEventListener("htmx:beforeRequest", function (event) {
      if (document.hidden) event.preventDefault();  // nobody is looking: refresh when they come back
    });
    board.addEventListener("htmx:beforeSwap", function (event) {
      before = {};
      rows().forEach(function (r) { before[r.dataset.number] = true; });
      if (event.detail.xhr.status === 400) { event.detail.shouldSwap = true; event.detail.isError = false; }
    });
    board.addEventListener("htmx:afterSwap", restore);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && window.htmx) window.htmx.trigger(board, "cc-refresh");
    });

    document.addEventListener("keydown", function (event) {
      if (!plainKey(event)) return;
      var search = document.getElementById("cc-q");
      if (typing(event.target)) {
        if (event.key === "Escape") event.target.blur();
        if (event.target === search && event.key === "ArrowDown") { search.blur(); move(1); event.preventDefault(); }
        return;
      }
      switch (event.key) {
        case "j": case "ArrowDown": move(1); break;
        case "k": case "ArrowUp": move(-1); break;
        case "Enter": case "o":
          if (current() < 0 || event.target.closest("a, button, summary")) return;
          open(event.shiftKey);
          break;
        case "/": if (search) { search.focus(); search.select(); } break;
        case "r": if (window.htmx) window.htmx.trigger(board, "cc-refresh"); break;
        case "n": var next = document.getElementById("cc-next"); if (next) next.click(); break;
        default: return;
      }
      event.preventDefault();
    });

    // Choosing from a list filters at once; the search box and dates wait for Enter or the button.
    var form = document.getElementById("cc-filters");
    if (form) {
      form.addEventListener("change", function (event) {
        if (event.target.tagName === "SELECT") form.requestSubmit ? form.requestSubmit() : form.submit();
      });
      // On a phone the list comes first: the filter lists fold away until asked for (or in use).
      var toggle = form.querySelector(".cc-filter-toggle");
      var inUse = Array.prototype.some.call(form.querySelectorAll("select, input[type=date]"), function (el) {
        return el.name !== "size" && el.value;
      });
      if (window.matchMedia("(max-width: 700px)").matches && !inUse) form.classList.add("cc-collapsed");
      if (toggle) {
        toggle.addEventListener("click", function () {
          var collapsed = form.classList.toggle("cc-collapsed");
          toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
        });
      }
      form.addEventListener("submit", function () {
        Array.prototype.forEach.call(form.elements, function (el) {
          if (el.name && !el.value && el.name !== "queue") el.disabled = true;  // short, bookmarkable URLs
        });
      });
    }
    restore();
  }

  // ------------------------------------------------------------------------------------------
  // the case page

  function initSiblings() {
    var here = (document.querySelector(".cc-number") || {}).textContent;
    var saved = null;
    try { saved = JSON.parse(recall(BOARD_KEY) || "null"); } catch (e) { saved = null; }
    if (!saved || !here) return;
    var back = document.getElementById("cc-back");
    if (back && saved.url) back.href = saved.url;
    var i = saved.numbers.indexOf(here.trim());
    if (i < 0) return;
    var box = document.getElementById("cc-siblings");
    var prev = document.getElementById("cc-prev");
    var next = document.getElementById("cc-next-case");
    if (i > 0) prev.href = "/center/cases/" + saved.numbers[i - 1] + "/"; else prev.hidden = true;
    if (i < saved.numbers.length - 1) next.href = "/center/cases/" + saved.numbers[i + 1] + "/"; else next.hidden = true;
    document.getElementById("cc-position").textContent = (i + 1) + " / " + saved.numbers.length;
    box.hidden = false;
    store(SELECTED_KEY + saved.url, here.trim());
  }

  function initCaseKeys() {
    document.addEventListener("keydown", function (event) {
      if (!plainKey(event) || typing(event.target)) return;
      var link = null;
      if (event.key === "b") link = document.getElementById("cc-back");
      else if (event.key === "[") link = document.getElementById("cc-prev");
      else if (event.key === "]") link = document.getElementById("cc-next-case");
      else if (event.key === "p") link = document.getElementById("cc-print");
      if (link && !link.hidden && link.getAttribute("href") !== "#") { event.preventDefault(); location.href = link.href; }
    });
  }

  function initForms() {
    // A refused operation answers 4xx with a message: show it in the form instead of dropping it.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var status = event.detail.xhr.status;
      if (status >= 400 && status < 500 && event.detail.elt.closest && event.detail.elt.closest(".cc-op")) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:sendError", function (event) {
      var form = event.detail.elt.closest && event.detail.elt.closest(".cc-op");
      var slot = form && form.querySelector(".cc-op-error");
      if (slot) slot.innerHTML = '<p class="error" role="alert">网络连接失败，请重试 · Network error, try again</p>';
    });
    // A deadline typed in the city's local time goes out as an ISO instant with its offset.
    document.querySelectorAll("input[data-deadline]").forEach(function (input) {
      var hidden = input.parentNode.querySelector("input[name=deadline]");
      input.addEventListener("change", function () {
        hidden.value = input.value ? input.value + (input.value.length === 16 ? ":00" : "") + "+08:00" : "";
      });
    });
    // Without htmx (or a failed script load) the forms still post; ask before the dangerous ones.
    document.querySelectorAll("form[hx-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.htmx && !window.confirm(form.getAttribute("hx-confirm"))) event.preventDefault();
      });
    });
  }

  function initMap() {
    var el = document.getElementById("cc-map");
    var dataEl = document.getElementById("cc-map-data");
    if (!el || !dataEl || !window.L) return;
    var data = JSON.parse(dataEl.textContent);
    var tiles = JSON.parse((document.getElementById("cc-map-tiles") || {}).textContent || "{}") || {};
    var dups = JSON.parse((document.getElementById("cc-dup-points") || {}).textContent || "[]") || [];
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!tiles.url, zoomSnap: 0.5 });
    if (tiles.url) L.tileLayer(tiles.url, { attribution: tiles.attribution || "", maxZoom: 19 }).addTo(map);
    var neighbours = L.layerGroup().addTo(map);
    var grid = data.grid ? L.geoJSON(data.grid, {
      style: { color: "#0b5cad", weight: 2.5, fillColor: "#0b5cad", fillOpacity: 0.1 }
    }).addTo(map) : null;
    if (grid) map.fitBounds(grid.getBounds().pad(0.9)); else map.setView([data.lat, data.lon], 17);
    dups.forEach(function (d) {
      L.circleMarker([d.lat, d.lon], { radius: 6, color: "#fff", weight: 1.5, fillColor: "#d69e2e", fillOpacity: 1 })
        .bindTooltip(d.number).on("click", function () { location.href = "/center/cases/" + d.number + "/"; })
        .addTo(map);
    });
    L.circleMarker([data.lat, data.lon], { radius: 8, color: "#fff", weight: 2, fillColor: "#d64545", fillOpacity: 1 })
      .bindTooltip(data.number, { permanent: false }).addTo(map);
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
    fetch("/api/v1/geo/grids?limit=300&bbox=" + bbox, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc) return;
        L.geoJSON(fc, {
          style: { color: "#7b8794", weight: 1, fillOpacity: 0, dashArray: "3 3" },
          onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.code, { sticky: true }); }
        }).addTo(neighbours);
        if (grid) grid.bringToFront();
      })
      .catch(function () { /* the grid outline alone still shows the place */ });
    // Amending the place: a click on the map fills longitude and latitude.
    var lon = document.querySelector("input[data-pick=lon]");
    var lat = document.querySelector("input[data-pick=lat]");
    if (lon && lat) {
      var picked = null;
      el.classList.add("pickable");
      map.on("click", function (e) {
        lon.value = e.latlng.lng.toFixed(6);
        lat.value = e.latlng.lat.toFixed(6);
        if (picked) picked.setLatLng(e.latlng);
        else picked = L.circleMarker(e.latlng, { radius: 7, color: "#0b5cad", weight: 2, fillColor: "#fff", fillOpacity: 1 }).addTo(map);
        var details = lon.closest("details");
        if (details) details.open = true;
      });
    }
  }

  function initPrint() {
    var button = document.getElementById("cc-print-now");
    if (button) button.addEventListener("click", function () { window.print(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("cc-board");
    if (board) initBoard(board);
    if (document.body.classList.contains("cc-case-page")) {
      initSiblings();
      initCaseKeys();
      initForms();
      initMap();
    }
    initPrint();
  });
})();
