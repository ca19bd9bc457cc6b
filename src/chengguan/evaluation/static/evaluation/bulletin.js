/* The bulletin's charts: each <div data-bulletin-chart> is drawn with ECharts from the spec in
   #bulletin-charts (type bar | line | hbar, categories, series, unit); null values leave gaps. */
(function () {
  "use strict";

  var specNode = document.getElementById("bulletin-charts");
  var printButton = document.querySelector("[data-print]");
  if (printButton) printButton.addEventListener("click", function () { window.print(); });
  if (!specNode || typeof echarts === "undefined") return;

  var specs = JSON.parse(specNode.textContent);
  var PALETTE = ["#0b5cad", "#1f9d55", "#dd6b20", "#805ad5", "#d69e2e", "#319795", "#d64545"];
  var MUTED = "#616e7c", LINE = "#d9e2ec";
  var FONT = getComputedStyle(document.body).fontFamily;
  var charts = [];

  function fmt(unit) {
    return function (v) { return v === null || v === undefined ? "—" : v + (unit || ""); };
  }

  function option(spec) {
    var horizontal = spec.type === "hbar";
    var line = spec.type === "line";
    var categoryAxis = {
      type: "category", data: spec.categories, inverse: horizontal, axisLine: { lineStyle: { color: LINE } },
      axisTick: { alignWithLabel: true }, axisLabel: { color: horizontal ? "#1f2933" : MUTED, interval: horizontal ? 0 : "auto" },
    };
    var valueAxis = {
      type: "value", splitLine: { lineStyle: { color: "#edf2f7", type: "dashed" } },
      axisLabel: { color: MUTED, formatter: "{value}" + (spec.unit || "") },
    };
    var many = spec.series.length > 1;
    return {
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      animationDuration: 400,
      tooltip: { trigger: "axis", axisPointer: { type: line ? "line" : "shadow" }, valueFormatter: fmt(spec.unit) },
      legend: many ? { top: 0, itemWidth: 14, itemHeight: 10 } : undefined,
      grid: { left: 8, right: horizontal ? 48 : 16, top: many ? 36 : 16, bottom: 4, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: spec.series.map(function (s) {
        return {
          name: s.name, type: line ? "line" : "bar", data: s.values, connectNulls: false,
          barMaxWidth: 22, symbolSize: 6, smooth: line ? 0.2 : undefined,
          label: { show: !many && !line, position: horizontal ? "right" : "top", color: "#1f2933",
                   formatter: function (p) { return fmt(spec.unit)(p.value); } },
          itemStyle: line ? (s.color ? { color: s.color } : undefined)
            : { borderRadius: horizontal ? [0, 2, 2, 0] : [2, 2, 0, 0], color: s.color || undefined },
          lineStyle: line && s.color ? { color: s.color } : undefined,
        };
      }),
    };
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-bulletin-chart]"), function (el) {
    var spec = specs[el.getAttribute("data-bulletin-chart")];
    if (!spec) return;
    if (spec.type === "hbar") el.style.height = Math.max(200, 40 + spec.categories.length * 30) + "px";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    charts.push(chart);
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  // Printing lays the page out narrower; redraw for it and back.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("afterprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
