/* 领导驾驶舱 — the leader dashboard: ECharts charts and the Leaflet hot-spot map, drawn from the
   figures embedded in the page (#dash-data); every bar, slice and grid opens the cases behind it. */
(function () {
  "use strict";

  var dataNode = document.getElementById("dash-data");
  if (!dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var T = JSON.parse(document.getElementById("dash-labels").textContent);
  var C = { brand: "#0b5cad", green: "#1f9d55", yellow: "#d69e2e", red: "#d64545", grey: "#a0aec0",
            orange: "#dd6b20", ink: "#1f2933", muted: "#616e7c", line: "#d9e2ec" };
  var FONT = getComputedStyle(document.body).fontFamily;
  var charts = [];

  function go(href) { if (href) window.location.href = href; }

  function empty(id) {
    var el = document.getElementById(id);
    if (el) el.innerHTML = '<p class="dash-empty">' + T.empty + "</p>";
  }

  function make(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") return null;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    option.textStyle = { fontFamily: FONT, color: C.ink };
    option.animationDuration = 500;
    chart.setOption(option);
    if (onClick) {
      chart.on("click", onClick);
    }
    charts.push(chart);
    return chart;
  }

  var axisLine = { lineStyle: { color: C.line } };
  var splitLine = { lineStyle: { color: "#edf2f7", type: "dashed" } };

  // 1. Thirty days: reports and closures per day, and the day's on-time handling rate.
  var t = data.trend;
  make("chart-trend", {
    color: [C.brand, C.green, C.orange],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, itemWidth: 14, itemHeight: 10 },
    grid: { left: 8, right: 8, top: 40, bottom: 4, containLabel: true },
    xAxis: {
      type: "category", data: t.days.map(function (d) { return d.slice(5); }), axisLine: axisLine,
      axisTick: { alignWithLabel: true },
      axisLabel: { color: C.muted, interval: "auto" },
    },
    yAxis: [
      { type: "value", name: T.cases_n, minInterval: 1, splitLine: splitLine, axisLabel: { color: C.muted },
        nameTextStyle: { color: C.muted } },
      { type: "value", name: T.rate, min: 0, max: 100, splitLine: { show: false },
        axisLabel: { formatter: "{value}%", color: C.muted }, nameTextStyle: { color: C.muted } },
    ],
    series: [
      { name: T.intake, type: "bar", data: t.intake, barMaxWidth: 12, barGap: "15%",
        itemStyle: { borderRadius: [2, 2, 0, 0] } },
      { name: T.closed, type: "bar", data: t.closed, barMaxWidth: 12, itemStyle: { borderRadius: [2, 2, 0, 0] } },
      { name: T.on_time, type: "line", yAxisIndex: 1, data: t.on_time_rate, smooth: 0.3, symbolSize: 5,
        connectNulls: false, lineStyle: { width: 2 },
        tooltip: { valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } } },
    ],
  }, function (p) {
    if (p.seriesIndex === 0) go(t.intake_links[p.dataIndex]);
    else if (p.seriesIndex === 1) go(t.closed_links[p.dataIndex]);
  });

  // 2. The month's ten most reported problems.
  var cls = data.classes;
  if (!cls.length) empty("chart-classes");
  else make("chart-classes", {
    grid: { left: 8, right: 36, top: 4, bottom: 4, containLabel: true },
    tooltip: { trigger: "item", formatter: function (p) { return p.name + "<br>" + p.value + " " + T.cases; } },
    xAxis: { type: "value", minInterval: 1, splitLine: splitLine, axisLabel: { color: C.muted } },
    yAxis: { type: "category", inverse: true, data: cls.map(function (c) { return c.name; }),
             axisTick: { show: false }, axisLine: axisLine, axisLabel: { color: C.ink, width: 120, overflow: "truncate" } },
    series: [{
      type: "bar", barMaxWidth: 18, label: { show: true, position: "right", color: C.ink },
      data: cls.map(function (c, i) {
        return { value: c.n, itemStyle: { color: i < 3 ? C.red : C.brand, borderRadius: [0, 3, 3, 0] } };
      }),
    }],
  }, function (p) { go(cls[p.dataIndex].href); });

  // 3. Where the month's cases came from.
  var src = data.sources;
  if (!src.length) empty("chart-sources");
  else make("chart-sources", {
    color: [C.brand, "#4299e1", C.orange, "#805ad5", C.green, C.yellow, C.grey],
    tooltip: { trigger: "item", formatter: "{b}<br>{c} " + T.cases + "（{d}%）" },
    legend: { orient: "vertical", right: 4, top: "middle", itemWidth: 12, itemHeight: 10,
              formatter: function (name) {
                var s = src.filter(function (x) { return x.name === name; })[0];
                return name + "  " + (s ? s.n : "");
              } },
    series: [{
      type: "pie", percentPrecision: 1, radius: ["42%", "70%"], center: ["36%", "52%"], avoidLabelOverlap: true,
      itemStyle: { borderColor: "#fff", borderWidth: 2 },
      label: { formatter: "{d}%", color: C.ink }, labelLine: { length: 8, length2: 6 },
      data: src.map(function (s) { return { name: s.name, value: s.n }; }),
    }],
  }, function (p) { go(src[p.dataIndex].href); });

  // 4. Streets: closed, open and otherwise ended, stacked, most cases first.
  var st = data.streets;
  if (!st.length) empty("chart-streets");
  else make("chart-streets", {
    color: [C.green, C.brand, C.grey],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, itemWidth: 14, itemHeight: 10 },
    grid: { left: 8, right: 44, top: 30, bottom: 4, containLabel: true },
    xAxis: { type: "value", minInterval: 1, splitLine: splitLine, axisLabel: { color: C.muted } },
    yAxis: { type: "category", inverse: true, data: st.map(function (s) { return s.name; }),
             axisTick: { show: false }, axisLine: axisLine },
    series: [
      { name: T.closed_s, type: "bar", stack: "n", barMaxWidth: 16, data: st.map(function (s) { return s.closed; }) },
      { name: T.open_s, type: "bar", stack: "n", data: st.map(function (s) { return s.open; }) },
      { name: T.other_s, type: "bar", stack: "n", data: st.map(function (s) { return s.other; }),
        label: { show: true, position: "right", color: C.ink,
                 formatter: function (p) { return st[p.dataIndex].n; } } },
    ],
  }, function (p) { go(st[p.dataIndex].href); });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  // Hot spots: the ten grids shaded by their cases, over street outlines and their neighbours.
  var mapEl = document.getElementById("hot-map");
  var hot = data.hot;
  if (mapEl && typeof L !== "undefined") {
    if (!hot.features.length) {
      mapEl.innerHTML = '<p class="dash-empty">' + T.empty + "</p>";
    } else {
      drawMap(mapEl, hot);
    }
  }

  function shade(share) {
    // light orange to deep red
    var stops = ["#fbd38d", "#f6ad55", "#ed8936", "#e53e3e", "#9b2c2c"];
    return stops[Math.min(stops.length - 1, Math.floor(share * (stops.length - 0.01)))];
  }

  function drawMap(el, fc) {
    var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25 });
    map.createPane("context").style.zIndex = 350;
    map.createPane("streetNames").style.zIndex = 450;  // above the grids, below the pins
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    }
    var max = Math.max.apply(null, fc.features.map(function (f) { return f.properties.n; }));
    var layer = L.geoJSON(fc, {
      style: function (f) {
        return { color: "#742a2a", weight: 2, fillColor: shade(f.properties.n / max), fillOpacity: 0.85 };
      },
      onEachFeature: function (f, lyr) {
        var p = f.properties;
        lyr.bindTooltip("<b>" + T.rank.replace("{n}", p.rank) + " · " + (p.name || p.code) + "</b><br>" +
          p.street + " " + p.community + "<br>" + T.cases_n + " " + p.n + " · " + T.open + " " + p.open +
          " · " + T.red + " " + p.red, { sticky: true });
        lyr.on("click", function () { go(p.href); });
      },
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [36, 36], maxZoom: 16 });
    // A numbered pin above each grid, coloured like it: the grid itself stays visible under it.
    fc.features.forEach(function (f) {
      var c = f.properties.center;
      if (!c) return;
      var colour = shade(f.properties.n / max);
      L.marker([c[1], c[0]], {
        keyboard: false, title: f.properties.name || f.properties.code,
        icon: L.divIcon({ className: "dash-map-label",
                          html: '<span style="border-color:' + colour + '"><b>' + f.properties.rank + "</b></span>",
                          iconSize: [24, 32], iconAnchor: [12, 32] }),
      }).on("click", function () { go(f.properties.href); }).addTo(map);
    });
    var b = map.getBounds().pad(0.4);
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); });
    Promise.all([
      fetchJSON("/api/v1/geo/grids?limit=2000&bbox=" + bbox.join(",")),
      fetchJSON("/api/v1/geo/regions?level=street"),
    ]).then(function (found) {
      var grids = found[0], streets = found[1];
      if (grids) {
        L.geoJSON(grids, { pane: "context", interactive: false,
                           style: { color: "#9fb3c8", weight: 0.6, fillColor: "#ffffff", fillOpacity: 0.55 } }).addTo(map);
      }
      if (streets) {
        L.geoJSON(streets, { pane: "context", interactive: false,
                             style: { color: "#486581", weight: 1.8, dashArray: "6 4", fill: false } }).addTo(map);
      }
      if (grids && streets) labelStreets(map, grids, streets);
    });
  }

  // Street names where their grids are on screen: at the mean of those grids' centres (inside the
  // street, which is what a reader without background tiles needs to find their way).
  function labelStreets(map, grids, streets) {
    var view = map.getBounds().pad(-0.1), sums = {};
    grids.features.forEach(function (f) {
      var p = labelPoint(f.geometry), code = f.properties.street_code;
      if (!p || !view.contains(p)) return;
      var s = sums[code] || (sums[code] = { lat: 0, lng: 0, n: 0 });
      s.lat += p.lat; s.lng += p.lng; s.n += 1;
    });
    streets.features.forEach(function (f) {
      var s = sums[f.properties.code];
      if (!s || s.n < 5) return;
      L.tooltip({ permanent: true, direction: "center", className: "dash-street-label", interactive: false,
                  pane: "streetNames" })
        .setLatLng([s.lat / s.n, s.lng / s.n]).setContent(f.properties.name).addTo(map);
    });
  }

  function labelPoint(geometry) {
    // The mean of the outer ring's vertices: inside the compact polygons streets are drawn as.
    var ring = geometry.type === "Polygon" ? geometry.coordinates[0]
      : geometry.type === "MultiPolygon" ? geometry.coordinates[0][0] : null;
    if (!ring || !ring.length) return null;
    var lon = 0, lat = 0;
    ring.forEach(function (p) { lon += p[0]; lat += p[1]; });
    return L.latLng(lat / ring.length, lon / ring.length);
  }

  function fetchJSON(url) {
    // A failed request leaves the map with the hot grids alone: still useful.
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }
})();

(function () {
  "use strict";
  // Supervise forms: one open at a time, Esc closes; a refusal (4xx) is shown inside the form.
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.classList || !d.classList.contains("dash-supervise") || !d.open) return;
    document.querySelectorAll("details.dash-supervise[open]").forEach(function (o) { if (o !== d) o.open = false; });
    var input = d.querySelector("input[name=note]");
    if (input) input.focus();
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.dash-supervise[open]").forEach(function (o) { o.open = false; });
  });
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    if (status >= 400 && status < 500 && e.detail.elt.closest && e.detail.elt.closest(".dash-supervise")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  var print = document.querySelector("[data-print]");
  if (print) print.addEventListener("click", function () { window.print(); });
})();
