/* cgMap — the city map of chengguan (数字城管地图).
 *
 *   var m = cgMap.create(element, {
 *     casesUrl: "/center/map/cases.json", heatUrl: "/center/map/heat.json",
 *     regionsUrl: "/api/v1/geo/regions", gridsUrl: "/api/v1/geo/grids",
 *     extent: [minlon, minlat, maxlon, maxlat], view: {zoom, lat, lon},
 *     tiles: {url, attribution},                    // optional background tiles; vector layers otherwise
 *     filters: {state: "open", light: "red", ...},  // the board's filters, sent with every case request
 *     layers: {districts: true, streets: true, communities: true, grids: true, cases: true, heat: false},
 *     heatDays: 7, gridMinZoom: 15, lang: "zh" | "en", caseUrl: function (number) {...}
 *   });
 *   m.show("heat", true); m.setFilters({...}); m.on("status", fn); m.map  // the Leaflet map
 *
 * Layers: districts, streets, communities (GeoJSON from the geography API), unit grids (fetched by
 * bbox once zoomed in), cases (markers coloured by light, clustered by the server) and a heat layer
 * of case counts per grid. Needs Leaflet; leaflet.heat for the heat blur (grids are shaded without it).
 * `cgMap.page()` wires the command center's map page; `cgMap.gridCheck()` the grid check page.
 */
(function () {
  "use strict";

  var TEXT = {
    zh: {
      districts: "区县", streets: "街道", communities: "社区", grids: "单元网格", cases: "案件", heat: "热力",
      red: "红灯 超时", yellow: "黄灯 临近时限", green: "绿灯 时限内", none: "未计时",
      lightShort: {red: "红", yellow: "黄", green: "绿", none: "未计时"},
      cluster: "聚合：案件数，外圈为红黄绿比例",
      supervised: "督办", open: "打开案件", reported: "上报", due: "时限", department: "部门",
      inView: "视野内", casesUnit: "件", clustered: "聚合显示", oneByOne: "逐件显示", loading: "加载中…",
      zoomForGrids: "放大到 {z} 级显示单元网格", heatLegend: "热力：近 {d} 天每个网格的案件数",
      heatPeriod: "热力时段", legend: "图例", boundaries: "边界", gridTip: "{n} 件（近 {d} 天）",
      listGrid: "在列表中查看本网格案件", area: "面积", areaClass: "类别", noCases: "视野内没有符合条件的案件",
      failed: "加载失败", clusterTip: "{n} 件", days: "天", zoomIn: "放大查看",
      heatSummary: "近 {d} 天 {n} 件 · {g} 个网格"
    },
    en: {
      districts: "Districts", streets: "Streets", communities: "Communities", grids: "Unit grids", cases: "Cases",
      heat: "Heat", red: "Red: overdue", yellow: "Yellow: near limit", green: "Green: in time",
      none: "No clock", lightShort: {red: "red", yellow: "yellow", green: "green", none: "no clock"},
      cluster: "Cluster: cases, ring shows the lights",
      supervised: "Supervised", open: "Open the case", reported: "Reported", due: "Due", department: "Department",
      inView: "In view", casesUnit: "cases", clustered: "clustered", oneByOne: "one by one", loading: "Loading…",
      zoomForGrids: "Zoom to level {z} to see unit grids", heatLegend: "Heat: cases per grid, last {d} days",
      heatPeriod: "Heat period", legend: "Legend", boundaries: "Boundaries", gridTip: "{n} cases (last {d} days)",
      listGrid: "List this grid's cases", area: "Area", areaClass: "Class", noCases: "No matching cases in view",
      failed: "Could not load", clusterTip: "{n} cases", days: "days", zoomIn: "Zoom in to see them",
      heatSummary: "last {d} days: {n} cases in {g} grids"
    }
  };
  var COLORS = {red: "#d64545", yellow: "#d69e2e", green: "#1f9d55", none: "#8a94a6"};
  var HEAT_STOPS = [[0.2, "#ffe08a"], [0.45, "#fdae61"], [0.7, "#f46d43"], [0.9, "#d73027"], [1, "#a50026"]];
  var HEAT_GRADIENT = {};
  HEAT_STOPS.forEach(function (s) { HEAT_GRADIENT[s[0]] = s[1]; });
  var LIGHT_ORDER = ["red", "yellow", "green", "none"];
  var FILTER_NAMES = ["state", "light", "department", "street", "community", "grid", "class_code", "source",
    "supervised", "q", "created_after", "created_before"];

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k] == null ? "" : values[k]; });
  }

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v !== undefined && v !== null && v !== false) parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
    });
    return parts.join("&");
  }

  function getJSON(url, signal) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}, signal: signal})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) {
            var error = new Error((body.error && body.error.message) || response.statusText);
            error.field = body.error && body.error.field;
            error.status = response.status;
            throw error;
          }
          return body;
        });
      });
  }

  function number(n) { return Number(n || 0).toLocaleString(); }

  // Permanent labels only on areas wide enough on screen to hold them: no pile of names when zoomed out.
  function fitLabels(map, layer, minPixels) {
    if (!map.hasLayer(layer)) return;
    var view = map.getBounds();
    layer.eachLayer(function (l) {
      if (!l.getTooltip()) return;
      var b = l.getBounds();
      var wide = map.latLngToContainerPoint(b.getNorthEast()).x - map.latLngToContainerPoint(b.getSouthWest()).x;
      if (wide >= minPixels && view.intersects(b)) { if (!l.isTooltipOpen()) l.openTooltip(); }
      else if (l.isTooltipOpen()) { l.closeTooltip(); }
    });
  }

  function create(element, options) {
    options = Object.assign({
      casesUrl: "/center/map/cases.json", heatUrl: "/center/map/heat.json",
      regionsUrl: "/api/v1/geo/regions", gridsUrl: "/api/v1/geo/grids",
      filters: {state: "open"}, heatDays: 7, gridMinZoom: 15, lang: "zh", legend: true,
      caseUrl: function (n) { return "/center/cases/" + encodeURIComponent(n) + "/"; }
    }, options || {});
    var layersOn = Object.assign({districts: true, streets: true, communities: true, grids: true, cases: true,
      heat: false}, options.layers || {});
    var t = TEXT[options.lang] || TEXT.zh;
    var filters = Object.assign({}, options.filters);
    var listeners = {};
    var hasTiles = !!(options.tiles && options.tiles.url);

    var map = L.map(element, {minZoom: 3, maxZoom: 19, zoomSnap: 0.5, zoomDelta: 1, attributionControl: hasTiles,
      worldCopyJump: false});
    element.classList.add("cg-map");
    if (hasTiles) {
      L.tileLayer(options.tiles.url, {attribution: options.tiles.attribution || "", maxZoom: 19}).addTo(map);
    } else {
      element.classList.add("cg-notiles");
    }
    L.control.scale({imperial: false}).addTo(map);
    [["cg-regions", 300], ["cg-grids", 350], ["cg-heat", 380], ["cg-labels", 450]].forEach(function (p) {
      map.createPane(p[0]).style.zIndex = p[1];
    });
    map.getPane("cg-regions").style.pointerEvents = "none";
    map.getPane("cg-labels").style.pointerEvents = "none";

    function emit(name, data) { (listeners[name] || []).forEach(function (fn) { fn(data); }); }

    // -- geography -------------------------------------------------------------------------------
    function regionLayer(level, style, labelClass) {
      return L.geoJSON(null, {
        pane: "cg-regions", interactive: false, className: "cg-" + level, style: style,
        onEachFeature: function (feature, layer) {
          if (labelClass) {
            layer.bindTooltip(esc(feature.properties.name), {permanent: true, direction: "center",
              className: "cg-label " + labelClass, interactive: false, opacity: 1, pane: "cg-labels"});
          }
        }
      });
    }
    var layers = {
      districts: regionLayer("district", {color: "#243b53", weight: 3, fillColor: "#ffffff",
        fillOpacity: hasTiles ? 0 : 0.85}, "cg-label-district"),
      streets: regionLayer("street", {color: "#486581", weight: 2, fill: false}, "cg-label-street"),
      communities: regionLayer("community", {color: "#829ab1", weight: 1, dashArray: "4 3", fill: false},
        "cg-label-community"),
      grids: L.geoJSON(null, {pane: "cg-grids", className: "cg-grid", style: gridStyle, onEachFeature: bindGrid}),
      cases: L.layerGroup(),
      heat: L.layerGroup()
    };
    var heatBlur = L.heatLayer ? L.heatLayer([], {radius: 28, blur: 22, maxZoom: 15, gradient: HEAT_GRADIENT,
      minOpacity: 0.25}) : null;
    if (heatBlur) layers.heat.addLayer(heatBlur);
    var loaded = {};
    var gridCodes = {};
    var heatByGrid = {};
    var heatMax = 0;
    var heatData = null;

    function loadRegions(name, level) {
      if (loaded[name]) return loaded[name];
      loaded[name] = getJSON(options.regionsUrl + "?level=" + level).then(function (collection) {
        layers[name].addData(collection);
        relabel();
        return collection;
      }, function (error) { loaded[name] = null; emit("error", error); });
      return loaded[name];
    }

    function gridStyle(feature) {
      var n = heatByGrid[feature.properties.code] || 0;
      var shaded = layersOn.heat && heatMax > 0;
      return {color: "#9fb3c8", weight: 1, fillColor: shaded && n ? heatColor(n / heatMax) : "#ffffff",
        fillOpacity: shaded && n ? 0.55 : 0};
    }

    function heatColor(ratio) {
      for (var i = 0; i < HEAT_STOPS.length; i++) if (ratio <= HEAT_STOPS[i][0]) return HEAT_STOPS[i][1];
      return HEAT_STOPS[HEAT_STOPS.length - 1][1];
    }

    function bindGrid(feature, layer) {
      var p = feature.properties;
      layer.bindTooltip(function () {
        var n = heatByGrid[p.code];
        return "<b>" + esc(p.code) + "</b> " + esc(p.name || "") + "<br>" + t.areaClass + " " + esc(p.area_class) +
          " · " + number(Math.round(p.area_m2)) + " m²" +
          (layersOn.heat && heatData ? "<br>" + fill(t.gridTip, {n: n || 0, d: heatData.days || ""}) : "");
      }, {sticky: true, className: "cg-grid-tip"});
      layer.on("mouseover", function () { layer.setStyle({weight: 3, color: "#0b5cad"}); });
      layer.on("mouseout", function () { layer.setStyle(gridStyle(feature)); });
      layer.on("click", function (e) {
        var n = heatByGrid[p.code];
        L.popup().setLatLng(e.latlng).setContent(
          '<div class="cg-popup"><b>' + esc(p.code) + "</b> " + esc(p.name || "") +
          "<div>" + t.areaClass + " " + esc(p.area_class) + " · " + t.area + " " + number(Math.round(p.area_m2)) +
          " m²</div>" + (heatData ? "<div>" + fill(t.gridTip, {n: n || 0, d: heatData.days || ""}) + "</div>" : "") +
          '<a href="' + (options.boardUrl || "/center/") + "?" + query({grid: p.code, state: filters.state || ""}) +
          '">' + t.listGrid + "</a></div>").openOn(map);
      });
    }

    var gridRequest = null;
    function loadGrids() {
      if (!layersOn.grids || map.getZoom() < options.gridMinZoom) {
        if (map.hasLayer(layers.grids)) map.removeLayer(layers.grids);
        emit("grids", {visible: false});
        return;
      }
      if (!map.hasLayer(layers.grids)) layers.grids.addTo(map);
      emit("grids", {visible: true});
      if (gridRequest) gridRequest.abort();
      gridRequest = new AbortController();
      var b = map.getBounds().pad(0.2);
      getJSON(options.gridsUrl + "?" + query({bbox: bboxText(b), limit: 3000}), gridRequest.signal)
        .then(function (collection) {
          if (Object.keys(gridCodes).length > 8000) { layers.grids.clearLayers(); gridCodes = {}; }
          var fresh = collection.features.filter(function (f) { return !gridCodes[f.properties.code]; });
          fresh.forEach(function (f) { gridCodes[f.properties.code] = true; });
          layers.grids.addData({type: "FeatureCollection", features: fresh});
        }, function (error) { if (error.name !== "AbortError") emit("error", error); });
    }

    function bboxText(bounds) {
      var clamp = function (v, m) { return Math.max(-m, Math.min(m, v)); };
      return [clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90), clamp(bounds.getEast(), 180),
        clamp(bounds.getNorth(), 90)].map(function (v) { return v.toFixed(6); }).join(",");
    }

    // -- cases -------------------------------------------------------------------------------------
    function casePopup(p) {
      var light = p.light && p.light !== "none"
        ? '<span class="light light-' + esc(p.light) + '">' + esc(t[p.light]) + "</span>"
        : '<span class="light cg-light-none">' + esc(t.none) + "</span>";
      var url = options.caseUrl(p.number);
      return '<div class="cg-popup cg-case-popup">' +
        '<div class="cg-popup-head"><a class="cg-popup-number" href="' + esc(url) + '">' + esc(p.number) + "</a> " +
        light + (p.supervised ? ' <span class="tag supervised">' + t.supervised + "</span>" : "") + "</div>" +
        '<div class="cg-popup-class">' + esc(p.class_name) + ' <span class="muted">' + esc(p.class_code) +
        "</span></div>" +
        '<div class="cg-popup-state">' + esc(p.state_name) + (p.department ? " · " + esc(p.department) : "") +
        "</div>" +
        (p.address ? '<div class="cg-popup-address">' + esc(p.address) + "</div>" : "") +
        '<div class="muted">' + t.reported + " " + esc(p.reported_at) +
        (p.due_at && p.open ? " · " + t.due + " " + esc(p.due_at) : "") + "</div>" +
        '<a class="button primary cg-popup-open" href="' + esc(url) + '">' + t.open + " →</a></div>";
    }

    function caseMarker(feature) {
      var p = feature.properties, c = feature.geometry.coordinates;
      var icon = L.divIcon({
        className: "cg-case cg-light-" + p.light + (p.supervised ? " cg-supervised" : ""),
        html: "<span></span>", iconSize: [18, 18]
      });
      var marker = L.marker([c[1], c[0]], {icon: icon, title: p.number + " " + p.class_name, riseOnHover: true,
        keyboard: true, zIndexOffset: {red: 3000, yellow: 2000, green: 1000}[p.light] || 0});
      marker.bindPopup(casePopup(p), {minWidth: 220, maxWidth: 300});
      marker.feature = feature;
      return marker;
    }

    function clusterMarker(feature) {
      var p = feature.properties, c = feature.geometry.coordinates;
      var size = p.count < 10 ? 34 : p.count < 100 ? 40 : p.count < 1000 ? 48 : 56;
      var stops = [], at = 0;
      LIGHT_ORDER.forEach(function (name) {
        var share = (p.lights[name] || 0) / p.count * 100;
        if (share > 0) { stops.push(COLORS[name] + " " + at.toFixed(2) + "% " + (at + share).toFixed(2) + "%"); }
        at += share;
      });
      var icon = L.divIcon({
        className: "marker-cluster cg-cluster cg-light-" + p.light,
        html: '<div style="background: conic-gradient(' + stops.join(",") + ')"><span>' + number(p.count) +
          "</span></div>",
        iconSize: [size, size]
      });
      var marker = L.marker([c[1], c[0]], {icon: icon, keyboard: true, title: fill(t.clusterTip, {n: p.count}),
        zIndexOffset: 5000 + Math.min(p.count, 4000)});
      var parts = LIGHT_ORDER.filter(function (k) { return p.lights[k]; }).map(function (k) {
        return t.lightShort[k] + " " + number(p.lights[k]);
      });
      marker.bindTooltip(fill(t.clusterTip, {n: number(p.count)}) + "：" + parts.join(" · "), {direction: "top"});
      marker.on("click", function () {
        var b = p.bbox, bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
        var target = map.getBoundsZoom(bounds.pad(0.15));
        if (map.getZoom() >= map.getMaxZoom() || target <= map.getZoom()) {
          map.setView(marker.getLatLng(), Math.min(map.getMaxZoom(), map.getZoom() + 2));
        } else {
          map.fitBounds(bounds.pad(0.15), {maxZoom: map.getMaxZoom()});
        }
      });
      marker.feature = feature;
      return marker;
    }

    var caseRequest = null, caseSeq = 0;
    function loadCases() {
      if (!layersOn.cases) return;
      if (caseRequest) caseRequest.abort();
      caseRequest = new AbortController();
      var seq = ++caseSeq;
      var params = Object.assign({}, filters, {bbox: bboxText(map.getBounds().pad(0.1)),
        zoom: Math.round(map.getZoom())});
      emit("loading", true);
      getJSON(options.casesUrl + "?" + query(params), caseRequest.signal).then(function (data) {
        if (seq !== caseSeq) return;
        layers.cases.clearLayers();
        data.features.forEach(function (f) {
          layers.cases.addLayer(f.properties.kind === "cluster" ? clusterMarker(f) : caseMarker(f));
        });
        emit("loading", false);
        emit("status", data);
      }, function (error) {
        if (error.name === "AbortError") return;
        emit("loading", false);
        emit("error", error);
      });
    }

    // -- heat --------------------------------------------------------------------------------------
    var heatRequest = null;
    function loadHeat() {
      if (!layersOn.heat) return;
      if (heatRequest) heatRequest.abort();
      heatRequest = new AbortController();
      var params = Object.assign({}, filters, {days: options.heatDays});
      delete params.created_after;  // the heat has its own period
      delete params.created_before;
      getJSON(options.heatUrl + "?" + query(params), heatRequest.signal).then(function (data) {
        heatData = data;
        heatByGrid = {};
        heatMax = data.max || 0;
        data.grids.forEach(function (g) { heatByGrid[g.code] = g.count; });
        if (heatBlur) {
          heatBlur.setOptions({max: Math.max(1, heatMax * 0.6)});
          heatBlur.setLatLngs(data.grids.map(function (g) { return [g.lat, g.lon, g.count]; }));
        }
        layers.grids.setStyle(gridStyle);
        emit("heat", data);
      }, function (error) { if (error.name !== "AbortError") emit("error", error); });
    }

    // -- legend ------------------------------------------------------------------------------------
    var legend = null;
    function legendHtml() {
      var lights = LIGHT_ORDER.map(function (k) {
        return '<li><span class="cg-case cg-light-' + k + '"><span></span></span>' + t[k] + "</li>";
      }).join("");
      var gradient = HEAT_STOPS.map(function (s) { return s[1] + " " + s[0] * 100 + "%"; });
      return '<details class="cg-legend-box" open><summary>' + t.legend + "</summary>" +
        '<ul class="cg-legend-lights">' + lights + "</ul>" +
        '<ul class="cg-legend-list">' +
        '<li><span class="cg-case cg-light-red cg-supervised"><span></span></span>' + t.supervised + "</li>" +
        '<li><span class="cg-legend-cluster"></span>' + t.cluster + "</li>" +
        '<li class="cg-legend-heat"' + (layersOn.heat ? "" : " hidden") + '><span class="cg-legend-gradient" ' +
        'style="background: linear-gradient(90deg,' + gradient.join(",") + ')"></span><span>' +
        fill(t.heatLegend, {d: heatData ? heatData.days || "" : options.heatDays}) + "</span></li>" +
        '<li class="cg-legend-lines"><span class="cg-legend-line cg-line-district"></span>' + t.districts +
        '<span class="cg-legend-line cg-line-street"></span>' + t.streets +
        '<span class="cg-legend-line cg-line-community"></span>' + t.communities +
        '<span class="cg-legend-line cg-line-grid"></span>' + t.grids + "</li>" +
        '<li class="cg-legend-gridhint muted" hidden>' + fill(t.zoomForGrids, {z: options.gridMinZoom}) + "</li>" +
        "</ul></details>";
    }
    if (options.legend) {
      legend = L.control({position: "bottomright"});
      legend.onAdd = function () {
        var div = L.DomUtil.create("div", "cg-legend");
        div.innerHTML = legendHtml();
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        if (window.matchMedia && window.matchMedia("(max-width: 700px)").matches) {
          div.querySelector("details").removeAttribute("open");
        }
        return div;
      };
      legend.addTo(map);
    }
    function refreshLegend() {
      if (!legend) return;
      var box = legend.getContainer();
      var heatItem = box.querySelector(".cg-legend-heat");
      heatItem.hidden = !layersOn.heat;
      heatItem.lastChild.textContent = fill(t.heatLegend, {d: heatData && heatData.days ? heatData.days : options.heatDays});
      box.querySelector(".cg-legend-gridhint").hidden = !(layersOn.grids && map.getZoom() < options.gridMinZoom);
    }

    // -- switching layers ----------------------------------------------------------------------------
    var levels = {districts: "district", streets: "street", communities: "community"};
    function show(name, on) {
      layersOn[name] = !!on;
      if (levels[name]) {
        if (on) { loadRegions(name, levels[name]); layers[name].addTo(map); relabel(); } else { map.removeLayer(layers[name]); }
      } else if (name === "grids") {
        loadGrids();
      } else if (name === "cases") {
        if (on) { layers.cases.addTo(map); loadCases(); } else { map.removeLayer(layers.cases); emit("status", null); }
      } else if (name === "heat") {
        if (on) { layers.heat.addTo(map); loadHeat(); } else {
          map.removeLayer(layers.heat);
          layers.grids.setStyle(gridStyle);
          emit("heat", null);
        }
      }
      element.setAttribute("data-layers", Object.keys(layersOn).filter(function (k) { return layersOn[k]; }).join(" "));
      refreshLegend();
    }

    var LABEL_PIXELS = {streets: 70, communities: 90};
    function relabel() {
      Object.keys(LABEL_PIXELS).forEach(function (name) { fitLabels(map, layers[name], LABEL_PIXELS[name]); });
    }

    function zoomBand() {
      var z = map.getZoom();
      element.setAttribute("data-zoom", z < 12 ? "city" : z < 14 ? "street" : z < 16 ? "community" : "grid");
    }

    // -- start ---------------------------------------------------------------------------------------
    if (options.view) {
      map.setView([options.view.lat, options.view.lon], options.view.zoom);
    } else if (options.extent) {
      var e = options.extent;
      map.fitBounds([[e[1], e[0]], [e[3], e[2]]], {padding: [12, 12]});
    } else {
      map.setView([30.05, 119.95], 11);
    }
    zoomBand();
    Object.keys(layersOn).forEach(function (name) { show(name, layersOn[name]); });
    map.on("zoomend", function () { zoomBand(); refreshLegend(); });
    map.on("moveend", relabel);
    map.on("moveend", debounce(function () {
      loadCases();
      loadGrids();
      emit("view", {zoom: map.getZoom(), lat: map.getCenter().lat, lon: map.getCenter().lng});
    }, 250));

    return {
      map: map,
      layers: layers,
      text: t,
      show: show,
      isShown: function (name) { return !!layersOn[name]; },
      setFilters: function (next) {
        filters = Object.assign({}, next);
        loadCases();
        loadHeat();
      },
      setHeatDays: function (days) { options.heatDays = days; loadHeat(); refreshLegend(); },
      reload: function () { loadCases(); loadHeat(); loadGrids(); },
      fitExtent: function () {
        if (options.extent) {
          var x = options.extent;
          map.fitBounds([[x[1], x[0]], [x[3], x[2]]], {padding: [12, 12]});
        }
      },
      on: function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); return this; }
    };
  }

  // == the command center's map page =====================================================================
  function page() {
    var element = document.getElementById("cg-map");
    var configTag = document.getElementById("cg-map-config");
    if (!element || !configTag) return null;
    var config = JSON.parse(configTag.textContent);
    var form = document.getElementById("cg-filters");
    var status = document.getElementById("cg-status");
    var boardLink = document.getElementById("cg-board-link");
    var shell = document.getElementById("cg-mapshell");
    var url = new URL(window.location.href);

    function currentFilters() {
      var data = new FormData(form), out = {};
      FILTER_NAMES.forEach(function (name) {
        if (form.elements[name] === undefined) {
          if (url.searchParams.get(name)) out[name] = url.searchParams.get(name);
          return;
        }
        var value = data.get(name);
        if (name === "supervised") { if (value) out.supervised = "1"; return; }
        if (name === "state") { out.state = value || ""; return; }
        if (value) out[name] = value;
      });
      var days = Number(form.elements.period && form.elements.period.value);
      if (days) {
        var since = new Date(Date.now() - days * 86400000);
        out.created_after = since.getFullYear() + "-" + String(since.getMonth() + 1).padStart(2, "0") + "-" +
          String(since.getDate()).padStart(2, "0");
      }
      return out;
    }

    function checkedLayers() {
      var on = {};
      document.querySelectorAll("[data-layer]").forEach(function (box) { on[box.getAttribute("data-layer")] = box.checked; });
      return on;
    }

    var view = null;
    var viewParam = (url.searchParams.get("view") || "").split("/").map(Number);
    if (viewParam.length === 3 && viewParam.every(isFinite)) view = {zoom: viewParam[0], lat: viewParam[1], lon: viewParam[2]};

    var cg = create(element, {
      casesUrl: config.casesUrl, heatUrl: config.heatUrl, regionsUrl: config.regionsUrl, gridsUrl: config.gridsUrl,
      boardUrl: config.boardUrl, extent: config.extent, view: view, tiles: config.tiles,
      filters: currentFilters(), layers: checkedLayers(), heatDays: Number(form.elements.days.value) || 7,
      gridMinZoom: config.gridMinZoom, lang: config.lang
    });
    var t = cg.text;
    window.cgMapPage = cg;

    function writeUrl(viewState) {
      var filters = currentFilters();
      var params = new URLSearchParams();
      Object.keys(filters).forEach(function (k) { params.set(k, filters[k]); });
      if (form.elements.period.value) { params.set("period", form.elements.period.value); params.delete("created_after"); }
      var on = checkedLayers();
      params.set("layers", Object.keys(on).filter(function (k) { return on[k]; }).join(","));
      params.set("days", form.elements.days.value);
      var c = viewState || {zoom: cg.map.getZoom(), lat: cg.map.getCenter().lat, lon: cg.map.getCenter().lng};
      params.set("view", c.zoom + "/" + c.lat.toFixed(5) + "/" + c.lon.toFixed(5));
      history.replaceState(null, "", "?" + params.toString());
      var board = new URLSearchParams();
      Object.keys(filters).forEach(function (k) { board.set(k, filters[k]); });
      if (boardLink) boardLink.href = config.boardUrl + "?" + board.toString();
    }

    function chip(name, n) {
      return '<span class="cg-chip cg-chip-' + name + '" title="' + esc(t[name]) + '"><i></i>' + esc(t.lightShort[name]) +
        " " + number(n) + "</span>";
    }

    var loadingTimer = null;
    cg.on("loading", function (on) {
      clearTimeout(loadingTimer);
      if (on) loadingTimer = setTimeout(function () { status.classList.add("is-loading"); }, 150);
      else status.classList.remove("is-loading");
    });
    var lastCases = null, lastHeat = null;
    function heatSummary() {
      if (!lastHeat) return "";
      return '<span class="cg-chip cg-chip-heat"><i></i>' + esc(t.heat) + " " +
        esc(fill(t.heatSummary, {d: lastHeat.days || "", n: number(lastHeat.total), g: number(lastHeat.grids.length)})) +
        "</span>";
    }
    function renderStatus() {
      var data = lastCases;
      if (!data) { status.innerHTML = heatSummary() + '<span class="cg-spinner" aria-hidden="true"></span>'; return; }
      var text = data.total
        ? '<b>' + t.inView + " " + number(data.total) + " " + t.casesUnit + "</b>" +
          '<span class="muted">' + (data.mode === "clusters" ? t.clustered : t.oneByOne) + "</span>" +
          LIGHT_ORDER.filter(function (k) { return data.lights[k]; }).map(function (k) { return chip(k, data.lights[k]); }).join("")
        : '<span class="muted">' + t.noCases + "</span>";
      status.innerHTML = text + heatSummary() + '<span class="cg-spinner" aria-hidden="true"></span>';
      status.setAttribute("data-mode", data.mode);
      status.setAttribute("data-total", data.total);
    }
    cg.on("status", function (data) { lastCases = data; renderStatus(); });
    cg.on("error", function (error) {
      status.innerHTML = '<span class="error" role="alert">' + esc(t.failed) + "：" + esc(error.message) + "</span>";
    });
    var hot = document.getElementById("cg-hot");
    var hotList = document.getElementById("cg-hotlist");
    cg.on("heat", function (data) {
      lastHeat = data;
      renderStatus();
      if (!hot) return;
      hot.hidden = !data;
      if (!data) return;
      hotList.innerHTML = data.grids.slice(0, 10).map(function (g) {
        return '<li><button type="button" class="link cg-hot-grid" data-lat="' + g.lat + '" data-lon="' + g.lon + '">' +
          "<span>" + esc(g.name || g.code) + ' <small class="muted">' + esc(g.code) + "</small></span><b>" +
          number(g.count) + "</b></button></li>";
      }).join("") || '<li class="muted">' + t.noCases + "</li>";
    });
    if (hotList) {
      hotList.addEventListener("click", function (e) {
        var button = e.target.closest(".cg-hot-grid");
        if (button) cg.map.setView([Number(button.dataset.lat), Number(button.dataset.lon)], 17);
      });
    }
    cg.on("view", writeUrl);

    form.addEventListener("change", function (e) {
      if (e.target.name === "days") { cg.setHeatDays(Number(e.target.value)); writeUrl(); return; }
      if (e.target.name === "state" && !e.target.value && !form.elements.period.value) {
        // Every case ever reported is rarely the question: all states start with the last 30 days.
        form.elements.period.value = "30";
      }
      if (e.target.hasAttribute("data-layer")) {
        cg.show(e.target.getAttribute("data-layer"), e.target.checked);
        writeUrl();
        return;
      }
      cg.setFilters(currentFilters());
      writeUrl();
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      cg.setFilters(currentFilters());
      writeUrl();
    });
    form.addEventListener("reset", function () {
      setTimeout(function () {
        form.elements.state.value = "open";
        cg.setFilters(currentFilters());
        writeUrl();
      }, 0);
    });
    var whole = document.getElementById("cg-whole-city");
    if (whole) whole.addEventListener("click", function () { cg.fitExtent(); });
    document.querySelectorAll("[data-panel-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        var open = shell.classList.toggle("panel-open");
        document.querySelectorAll("[data-panel-toggle]").forEach(function (b) { b.setAttribute("aria-expanded", open); });
        setTimeout(function () { cg.map.invalidateSize(); }, 220);
      });
    });
    writeUrl();
    return cg;
  }

  // == the administrator's grid check ====================================================================
  function gridCheck() {
    var element = document.getElementById("cg-gridcheck-map");
    if (!element) return null;
    var grids = JSON.parse(document.getElementById("cg-grid-features").textContent);
    var communities = JSON.parse(document.getElementById("cg-community-features").textContent);
    var lang = element.getAttribute("data-lang") || "zh";
    var t = TEXT[lang] || TEXT.zh;
    var map = L.map(element, {minZoom: 3, maxZoom: 20, attributionControl: false});
    element.classList.add("cg-map", "cg-notiles");
    L.control.scale({imperial: false}).addTo(map);
    var boundary = L.geoJSON(communities, {
      className: "cg-community-boundary", interactive: false,
      style: {color: "#243b53", weight: 2.5, dashArray: "6 4", fillColor: "#ffffff", fillOpacity: 0.9},
      onEachFeature: function (f, layer) {
        layer.bindTooltip(esc(f.properties.name), {permanent: true, direction: "center",
          className: "cg-label cg-label-street", opacity: 1});
      }
    }).addTo(map);
    var byCode = {};
    var layer = L.geoJSON(grids, {
      className: "cg-grid-check",
      style: function (f) {
        return f.properties.ok
          ? {color: "#1f9d55", weight: 1, fillColor: "#1f9d55", fillOpacity: 0.12}
          : {color: "#d64545", weight: 2.5, fillColor: "#d64545", fillOpacity: 0.45};
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        byCode[p.code] = l;
        // Each layer has its own options; the class is read when its path is made, just after this.
        l.options.className = "cg-grid-check " + (p.ok ? "cg-grid-ok" : "cg-grid-bad");
        l.on("mouseover", function () { l.setStyle({weight: 4}); l.bringToFront(); });
        l.on("mouseout", function () { layer.resetStyle(l); });
        l.bindTooltip("<b>" + esc(p.code) + "</b> " + esc(p.name || "") + "<br>" + esc(p.community_name) + "<br>" +
          number(Math.round(p.area_m2)) + " m² · " + t.areaClass + " " + esc(p.area_class) +
          (p.problems.length ? '<br><span class="error">' + p.problems.map(esc).join("<br>") + "</span>" : ""),
          {sticky: true});
      }
    }).addTo(map);
    map.on("moveend", function () { fitLabels(map, boundary, 90); });
    var bounds = layer.getBounds();
    if (boundary.getBounds().isValid()) bounds = boundary.getBounds().extend(bounds.isValid() ? bounds : boundary.getBounds());
    if (bounds.isValid()) map.fitBounds(bounds, {padding: [16, 16]}); else map.setView([30.05, 119.95], 12);
    fitLabels(map, boundary, 90);
    document.querySelectorAll("[data-grid-code]").forEach(function (row) {
      row.addEventListener("click", function (e) {
        var l = byCode[row.getAttribute("data-grid-code")];
        if (!l) return;
        e.preventDefault();
        map.fitBounds(l.getBounds(), {maxZoom: 18, padding: [40, 40]});
        l.openTooltip(l.getBounds().getCenter());
        element.scrollIntoView({behavior: "smooth", block: "nearest"});
      });
    });
    var streetSelect = document.getElementById("cg-street");
    if (streetSelect) {
      streetSelect.addEventListener("change", function () {
        var community = document.getElementById("cg-community");
        if (community) community.value = "";
        streetSelect.form.submit();
      });
    }
    var communitySelect = document.getElementById("cg-community");
    if (communitySelect) communitySelect.addEventListener("change", function () { communitySelect.form.submit(); });
    return map;
  }

  window.cgMap = {create: create, page: page, gridCheck: gridCheck, text: TEXT, colors: COLORS};

  function start() { page(); gridCheck(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
