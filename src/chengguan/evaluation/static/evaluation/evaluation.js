/* 综合评价 — the ranking page: the period kind selector, the trend chart (ECharts) and the map of
   regions shaded by grade (Leaflet; it works without background tiles). Data comes from the page
   (#ev-map-data, #ev-chart-data); every name is inserted as text, never as HTML. */
(function () {
  "use strict";

  var GRADE = { A: "#1f9d55", B: "#68a83a", C: "#d69e2e", D: "#dd6b20", E: "#d64545" };
  var NA = "#cbd2d9";

  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value === null || value === undefined ? "—" : String(value);
    return span.innerHTML;
  }

  // A new period kind starts from that kind's current period.
  var kind = document.querySelector("#ev-form [data-kind]");
  if (kind) {
    kind.addEventListener("change", function () {
      var form = kind.form;
      form.querySelector("input[name=period]").value = "";
      form.submit();
    });
  }

  var labels = json("ev-labels") || {};

  var chart = json("ev-chart-data");
  var chartEl = document.getElementById("ev-trend");
  if (chart && chartEl && chart.series.length && typeof echarts !== "undefined") {
    var c = echarts.init(chartEl, null, { renderer: "canvas" });
    c.setOption({
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v; } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 32, top: 36, bottom: 4, containLabel: true },
      xAxis: { type: "category", data: chart.periods, boundaryGap: false },
      yAxis: { type: "value", min: 0, max: 100, name: labels.score || "" },
      series: chart.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: 6 };
      }),
    });
    window.addEventListener("resize", function () { c.resize(); });
  }

  var fc = json("ev-map-data");
  var mapEl = document.getElementById("ev-map");
  if (!fc || !mapEl || typeof L === "undefined") return;
  if (!fc.features.length) {
    mapEl.textContent = labels.empty || "";
    return;
  }
  var map = L.map(mapEl, { scrollWheelZoom: false, zoomSnap: 0.25 });
  if (mapEl.dataset.tiles) {
    L.tileLayer(mapEl.dataset.tiles, { attribution: mapEl.dataset.attribution || "", maxZoom: 19 }).addTo(map);
  }
  var layer = L.geoJSON(fc, {
    style: function (f) {
      var g = f.properties.grade;
      return { color: "#334e68", weight: 1, fillColor: g ? GRADE[g] : NA, fillOpacity: g ? 0.75 : 0.45 };
    },
    onEachFeature: function (f, lyr) {
      var p = f.properties;
      var score = p.score === null ? labels.na : p.score;
      lyr.bindTooltip("<b>" + text(p.name) + "</b><br>" + text(labels.grade) + " " + text(p.grade || "—") +
        " · " + text(labels.score) + " " + text(score) + (p.rank ? " · " + text(labels.rank) + " " + text(p.rank) : ""),
        { sticky: true });
      lyr.on("click", function () { if (p.href) window.location.href = p.href; });
    },
  }).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [12, 12] });
  mapEl.dataset.ready = "1";
})();
