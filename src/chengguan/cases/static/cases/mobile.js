/* 城管通 · the field page (/m/): tabs, photos shrunk on the phone, GPS on a small map, the class
 * picker, the duplicate warning, the outbox that keeps reports until they are sent, and the
 * verify/check forms. Plain script, no build step; Leaflet comes from the vendored files.
 */
(function () {
  "use strict";

  var EN = (document.documentElement.lang || "").toLowerCase().indexOf("en") === 0;
  function T(zh, en) { return EN ? en : zh; }

  var MAX_PHOTOS = 6;
  var MAX_SIDE = 1600;          // px: longest side of a photo after shrinking
  var JPEG_QUALITY = 0.82;
  var KEEP_UNDER = 500 * 1024;  // a photo already this small and narrow is sent as it is
  var SENT_KEPT_MS = 24 * 3600 * 1000;

  // ---------------------------------------------------------------------------------------
  // helpers

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
      var value = attrs[key];
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = $("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function NetworkError(message) { this.message = message; }

  // One call to our API or pages. Resolves {ok, status, data}; rejects with NetworkError when
  // there is no answer at all (offline, timeout), which the outbox treats as "try again later".
  function request(method, url, options) {
    options = options || {};
    var headers = {"Accept": "application/json", "Accept-Language": EN ? "en" : "zh-hans"};
    var body;
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = options.form;
    }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, options.timeout || 20000) : null;
    return fetch(url, {method: method, headers: headers, body: body, credentials: "same-origin",
                       signal: controller ? controller.signal : undefined})
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        var parse = type.indexOf("json") >= 0 ? response.json().catch(function () { return null; }) : response.text();
        return parse.then(function (data) { return {ok: response.ok, status: response.status, data: data}; });
      }, function () {
        throw new NetworkError(T("网络不通", "No connection"));
      })
      .finally(function () { if (timer) clearTimeout(timer); });
  }

  function apiMessage(res) {
    var err = res && res.data && res.data.error;
    if (err && err.message) return err.message;
    return T("服务器返回错误 ", "The server answered ") + res.status;
  }

  var toastTimer = null;
  function toast(text, kind) {
    var box = $("#m-toast");
    if (!box) {
      box = el("div", {id: "m-toast", class: "m-toast", role: "status", "aria-live": "polite"});
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.className = "m-toast show" + (kind ? " " + kind : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.className = "m-toast"; }, 4000);
  }

  function when(ms) {
    var d = new Date(ms);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function metres(m) {
    if (m === null || m === undefined) return "";
    return m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(1) + " km";
  }

  // ---------------------------------------------------------------------------------------
  // photos: shrink on the phone before they use the user's data

  function shrink(file) {
    if (!window.createImageBitmap || !/^image\//.test(file.type || "image/")) return Promise.resolve(file);
    return createImageBitmap(file, {imageOrientation: "from-image"}).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= KEEP_UNDER && /jpeg|png|webp/.test(file.type)) {
        if (bitmap.close) bitmap.close();
        return file;
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob && (blob.size < file.size || scale < 1) ? blob : file);
        }, "image/jpeg", JPEG_QUALITY);
      });
    }).catch(function () { return file; });
  }

  // A row of photo previews fed by a file input; `items` holds the shrunk blobs.
  function PhotoPicker(input, strip, counter, options) {
    var self = this;
    this.items = [];
    this.input = input;
    this.strip = strip;
    this.counter = counter;
    this.max = (options && options.max) || MAX_PHOTOS;
    this.onchange = (options && options.onchange) || function () {};
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      input.value = "";
      var room = self.max - self.items.length;
      if (files.length > room) toast(T("最多 " + self.max + " 张照片", "At most " + self.max + " photos"), "warn");
      var chain = Promise.resolve();
      files.slice(0, Math.max(0, room)).forEach(function (file) {
        chain = chain.then(function () { return shrink(file); }).then(function (blob) {
          self.items.push({blob: blob, url: URL.createObjectURL(blob)});
          self.render();
        });
      });
      chain.then(function () { self.onchange(); });
    });
  }
  PhotoPicker.prototype.render = function () {
    var self = this;
    $$(".m-thumb", this.strip).forEach(function (node) { node.remove(); });
    var tile = this.input.closest("label");
    this.items.forEach(function (item, index) {
      var remove = el("button", {type: "button", class: "m-thumb-x", "aria-label": T("删除这张照片", "Remove this photo"),
                                 text: "×", onclick: function () {
                                   URL.revokeObjectURL(item.url);
                                   self.items.splice(index, 1);
                                   self.render();
                                   self.onchange();
                                 }});
      var figure = el("figure", {class: "m-thumb"}, el("img", {src: item.url, alt: T("照片 ", "Photo ") + (index + 1)}),
                      remove);
      self.strip.insertBefore(figure, tile && tile.parentNode === self.strip ? tile : null);
    });
    if (tile) tile.hidden = this.items.length >= this.max;
    if (this.counter) this.counter.textContent = this.items.length + "/" + this.max;
  };
  PhotoPicker.prototype.clear = function () {
    this.items.forEach(function (item) { URL.revokeObjectURL(item.url); });
    this.items = [];
    this.render();
  };

  // ---------------------------------------------------------------------------------------
  // coordinates: GPS gives WGS84; GCJ-02 tiles (Chinese web maps) need the published offset

  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }

  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    var a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
    var u = lon - 105.0, v = lat - 35.0, root = Math.sqrt(Math.abs(u));
    var common = (20 * Math.sin(6 * u * PI) + 20 * Math.sin(2 * u * PI)) * 2 / 3;
    var dlat = -100 + 2 * u + 3 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * root + common;
    dlat += (20 * Math.sin(v * PI) + 40 * Math.sin(v / 3 * PI)) * 2 / 3;
    dlat += (160 * Math.sin(v / 12 * PI) + 320 * Math.sin(v * PI / 30)) * 2 / 3;
    var dlon = 300 + u + 2 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * root + common;
    dlon += (20 * Math.sin(u * PI) + 40 * Math.sin(u / 3 * PI)) * 2 / 3;
    dlon += (150 * Math.sin(u / 12 * PI) + 300 * Math.sin(u / 30 * PI)) * 2 / 3;
    var radlat = lat / 180 * PI, magic = 1 - ee * Math.sin(radlat) * Math.sin(radlat), sq = Math.sqrt(magic);
    dlat = (dlat * 180) / ((a * (1 - ee)) / (magic * sq) * PI);
    dlon = (dlon * 180) / (a / sq * Math.cos(radlat) * PI);
    return [lon + dlon, lat + dlat];
  }

  function distance(lon1, lat1, lon2, lat2) {
    var r = 6371008.8, p1 = lat1 * Math.PI / 180, p2 = lat2 * Math.PI / 180;
    var dp = p2 - p1, dl = (lon2 - lon1) * Math.PI / 180;
    var h = Math.sin(dp / 2) * Math.sin(dp / 2) + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) * Math.sin(dl / 2);
    return 2 * r * Math.asin(Math.sqrt(h));
  }

  // ---------------------------------------------------------------------------------------
  // the outbox: every report is kept on the phone first and sent from here, so a report made
  // without signal survives a closed page; the client_uuid makes a repeated send return the
  // case made by the first one, and photos already on the server are not sent twice.

  var outbox = {
    db: null,
    open: function () {
      if (this.db) return Promise.resolve(this.db);
      var self = this;
      return new Promise(function (resolve, reject) {
        var req = indexedDB.open("chengguan-field", 1);
        req.onupgradeneeded = function () { req.result.createObjectStore("outbox", {keyPath: "id"}); };
        req.onsuccess = function () { self.db = req.result; resolve(self.db); };
        req.onerror = function () { reject(req.error); };
      });
    },
    run: function (mode, work) {
      return this.open().then(function (db) {
        return new Promise(function (resolve, reject) {
          var tx = db.transaction("outbox", mode);
          var result = work(tx.objectStore("outbox"));
          tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
          tx.onerror = function () { reject(tx.error); };
        });
      });
    },
    all: function () {
      return this.run("readonly", function (store) { return store.getAll(); }).then(function (rows) {
        return (rows || []).sort(function (a, b) { return a.created_at - b.created_at; });
      });
    },
    put: function (item) { return this.run("readwrite", function (store) { store.put(item); }); },
    remove: function (id) { return this.run("readwrite", function (store) { store.delete(id); }); }
  };

  // ---------------------------------------------------------------------------------------
  // the page

  var app = $("#m-app");
  var USER = app ? app.dataset.user : "";
  var ROLE = app ? app.dataset.role : "";

  if ("serviceWorker" in navigator && app && window.isSecureContext) {
    navigator.serviceWorker.register("/m/sw.js", {scope: "/m/"}).catch(function () {});
  }

  bindActionForms();
  if (!app) return;  // the case page needs only the forms

  app.classList.add("js");

  // --- tabs ---------------------------------------------------------------------------------

  var tabs = $$(".m-tab", app).map(function (s) { return s.dataset.tab; });

  function route() {
    var hash = (location.hash || "").slice(1);
    var tab = tabs.indexOf(hash) >= 0 ? hash : null;
    var target = null;
    if (!tab && hash) {
      target = document.getElementById(hash);
      var section = target && target.closest(".m-tab");
      tab = section ? section.dataset.tab : null;
    }
    showTab(tab || app.dataset.defaultTab || tabs[0], target);
  }

  function showTab(name, target) {
    $$(".m-tab", app).forEach(function (s) { s.classList.toggle("active", s.dataset.tab === name); });
    $$(".m-tabs a", app).forEach(function (a) {
      if (a.dataset.tab === name) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    if (name === "report") map.show();
    if (target) target.scrollIntoView({block: "start"});
    else window.scrollTo(0, 0);
  }

  window.addEventListener("hashchange", route);

  // --- position -----------------------------------------------------------------------------

  var tiles = app.dataset.tiles || "";
  var DISPLAY_CRS = tiles && app.dataset.tileCrs === "gcj02" ? "gcj02" : "wgs84";
  var center = (app.dataset.center || "120,30").split(",").map(Number);

  function toDisplay(lon, lat) { return DISPLAY_CRS === "gcj02" ? wgs84ToGcj02(lon, lat) : [lon, lat]; }

  var position = {
    gps: null,       // {lon, lat, accuracy}: the phone's fix, WGS84
    point: null,     // {lon, lat, crs}: what the report will carry
    manual: false,   // the user moved the pin: stop following the GPS
    located: null,   // the answer of /geo/locate for the point (null: not known yet; false: outside)
    watch: null,
    tasksAt: null
  };

  function startGps() {
    if (!navigator.geolocation) {
      where(T("本机不支持定位：请在地图上点选位置", "No GPS on this device: tap the map to place the report"), "warn");
      return;
    }
    if (position.watch !== null) navigator.geolocation.clearWatch(position.watch);
    position.watch = navigator.geolocation.watchPosition(function (p) {
      var fix = {lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy};
      var last = position.gps;
      position.gps = fix;
      // A phone standing still reports a little jitter: move the pin (and ask the server again)
      // only for a real move or a clearly better fix.
      var pt = position.point;
      var moved = !pt || pt.crs !== "wgs84" || !last || fix.accuracy < last.accuracy / 2
        || distance(pt.lon, pt.lat, fix.lon, fix.lat) > Math.max(5, fix.accuracy / 2);
      if (!position.manual && moved) setPoint(fix.lon, fix.lat, "wgs84", false);
      map.showGps();
      tasksNearMe();
    }, function (err) {
      if (position.point) return;
      var why = err && err.code === 1 ? T("未授权定位", "location permission denied") : T("暂时无法定位", "no fix yet");
      where(why + T("：请在地图上点选位置", ": tap the map to place the report"), "warn");
    }, {enableHighAccuracy: true, maximumAge: 15000, timeout: 30000});
  }

  function setPoint(lon, lat, crs, manual) {
    var before = position.point;
    position.point = {lon: lon, lat: lat, crs: crs};
    position.manual = manual;
    map.place();
    if (before && Math.abs(before.lon - lon) < 1e-6 && Math.abs(before.lat - lat) < 1e-6 && before.crs === crs) return;
    locateSoon();
    duplicates.check();
  }

  function where(text, kind) {
    var p = $("#m-where");
    if (!p) return;
    p.textContent = text;
    p.className = "m-where" + (kind ? " " + kind : "");
  }

  var locateTimer = null, locateSeq = 0;
  function locateSoon() {
    clearTimeout(locateTimer);
    locateTimer = setTimeout(locate, 350);
  }

  function locate() {
    var pt = position.point;
    if (!pt) return;
    var source = position.manual ? T("地图选点", "picked on the map")
      : "GPS" + (position.gps ? " ±" + Math.round(position.gps.accuracy) + " m" : "");
    var coords = pt.lon.toFixed(6) + ", " + pt.lat.toFixed(6);
    var seq = ++locateSeq;
    position.located = null;
    if (!navigator.onLine) {
      where(coords + " · " + source + T("（离线，发送时定位网格）", " (offline: the grid is found when sent)"));
      return;
    }
    request("GET", "/api/v1/geo/locate?lon=" + pt.lon + "&lat=" + pt.lat + "&crs=" + pt.crs, {timeout: 8000})
      .then(function (res) {
        if (seq !== locateSeq) return;
        if (res.ok) {
          position.located = res.data;
          var n = res.data.names || {};
          where([n.street, n.community].filter(Boolean).join(" · ") + " · " + T("网格 ", "grid ")
                + res.data.grid_code + " · " + source, "ok");
          map.loadGrids();
        } else if (res.status === 422) {
          position.located = false;
          where(T("该位置不在本市网格内，请在地图上重新选点", "This point is outside the city's grids: pick another"),
                "warn");
        } else {
          where(coords + " · " + source);
        }
      }, function () {
        if (seq === locateSeq) where(coords + " · " + source + T("（离线）", " (offline)"));
      });
  }

  // --- the map ------------------------------------------------------------------------------

  var map = {
    leaflet: null, marker: null, gpsCircle: null, gridLayer: null, dutyLayer: null, loadedBox: null,
    show: function () {
      if (!window.L || !$("#m-map")) return;
      if (!this.leaflet) this.init();
      var self = this;
      setTimeout(function () { self.leaflet.invalidateSize(); }, 0);
    },
    init: function () {
      var self = this;
      var start = toDisplay(center[0], center[1]);
      this.leaflet = L.map("m-map", {zoomControl: true, attributionControl: !!tiles})
        .setView([start[1], start[0]], 16);
      if (tiles) L.tileLayer(tiles, {maxZoom: 19, attribution: app.dataset.attribution || ""}).addTo(this.leaflet);
      this.dutyLayer = L.geoJSON(null, {interactive: false,
        style: {color: "#0b5cad", weight: 1.2, opacity: 0.7, fillColor: "#0b5cad", fillOpacity: 0.07}}).addTo(this.leaflet);
      this.gridLayer = L.geoJSON(null, {interactive: false,
        style: function (f) {
          var here = position.located && f.properties && f.properties.code === position.located.grid_code;
          return {color: here ? "#d69e2e" : "#7b8794", weight: here ? 2.5 : 0.8, opacity: 0.9,
                  fillColor: "#d69e2e", fillOpacity: here ? 0.12 : 0};
        }}).addTo(this.leaflet);
      this.leaflet.on("click", function (e) { setPoint(e.latlng.lng, e.latlng.lat, DISPLAY_CRS, true); });
      if (ROLE === "inspector") {
        request("GET", "/m/grids.json?crs=map", {timeout: 15000}).then(function (res) {
          if (res.ok && res.data) self.dutyLayer.addData(res.data);
        }, function () {});
      }
      this.place();
      this.showGps();
    },
    place: function () {
      if (!this.leaflet || !position.point) return;
      var pt = position.point;
      var shown = pt.crs === "wgs84" ? toDisplay(pt.lon, pt.lat) : [pt.lon, pt.lat];
      var latlng = [shown[1], shown[0]];
      if (!this.marker) {
        this.marker = L.marker(latlng, {
          draggable: true, autoPan: true, keyboard: true, title: T("上报位置（可拖动）", "Report position (drag)"),
          icon: L.divIcon({className: "m-pin", html: "<span></span>", iconSize: [30, 42], iconAnchor: [15, 40]})
        }).addTo(this.leaflet);
        this.marker.on("dragend", function (e) {
          var ll = e.target.getLatLng();
          setPoint(ll.lng, ll.lat, DISPLAY_CRS, true);
        });
      } else {
        this.marker.setLatLng(latlng);
      }
      if (!this.leaflet.getBounds().pad(-0.2).contains(latlng)) this.leaflet.setView(latlng, Math.max(this.leaflet.getZoom(), 17));
      this.loadGrids();
    },
    showGps: function () {
      if (!this.leaflet || !position.gps) return;
      var shown = toDisplay(position.gps.lon, position.gps.lat);
      var latlng = [shown[1], shown[0]];
      var radius = Math.min(position.gps.accuracy || 0, 500);
      if (!this.gpsCircle) {
        this.gpsCircle = L.circle(latlng, {radius: radius, interactive: false, color: "#1f9d55", weight: 1,
                                           fillOpacity: 0.08}).addTo(this.leaflet);
      } else {
        this.gpsCircle.setLatLng(latlng).setRadius(radius);
      }
    },
    loadGrids: function () {
      if (!this.leaflet || !position.point || !navigator.onLine) {
        if (this.gridLayer) this.gridLayer.setStyle(this.gridLayer.options.style);
        return;
      }
      var c = this.leaflet.getCenter();
      var box = this.loadedBox;
      if (box && c.lng > box[0] && c.lng < box[2] && c.lat > box[1] && c.lat < box[3]) {
        this.gridLayer.setStyle(this.gridLayer.options.style);
        return;
      }
      var d = 0.006;
      var next = [c.lng - d, c.lat - d, c.lng + d, c.lat + d];
      var self = this;
      this.loadedBox = [c.lng - d / 2, c.lat - d / 2, c.lng + d / 2, c.lat + d / 2];
      request("GET", "/api/v1/geo/grids?bbox=" + next.map(function (v) { return v.toFixed(6); }).join(",")
              + "&crs=" + DISPLAY_CRS + "&limit=1500", {timeout: 15000}).then(function (res) {
        if (!res.ok || !res.data) return;
        self.gridLayer.clearLayers();
        self.gridLayer.addData(res.data);
      }, function () { self.loadedBox = null; });
    }
  };

  // --- the class picker -----------------------------------------------------------------

  var picker = JSON.parse(($("#m-classes") || {}).textContent || '{"classes": [], "frequent": []}');
  var byCode = {};
  picker.classes.forEach(function (c) { byCode[c.code] = c; });
  var chosen = null;

  function subsequence(needle, hay) {
    var i = 0;
    for (var j = 0; j < hay.length && i < needle.length; j++) if (hay[j] === needle[i]) i++;
    return i === needle.length;
  }

  // The same ranking as the server's search_classes: exact code, prefixes, contiguous, initials in order.
  function searchClasses(q) {
    var text = q.trim(), low = text.toLowerCase();
    if (!text) return picker.frequent.map(function (code) { return byCode[code]; }).filter(Boolean);
    var found = [];
    picker.classes.forEach(function (c) {
      var code = c.code.toLowerCase(), py = (c.py || "").toLowerCase(), en = (c.en || "").toLowerCase();
      var rank;
      if (code === low || code.slice(1) === low) rank = 0;
      else if (code.indexOf(low) === 0 || code.slice(1).indexOf(low) === 0 || py.indexOf(low) === 0
               || c.name.indexOf(text) === 0 || (EN && en.indexOf(low) === 0)) rank = 1;
      else if (code.indexOf(low) >= 0 || c.name.indexOf(text) >= 0 || py.indexOf(low) >= 0 || en.indexOf(low) >= 0
               || c.major.indexOf(text) === 0) rank = 2;
      else if (/^[a-z]+$/.test(low) && subsequence(low, py)) rank = 3;
      else return;
      found.push([rank, c.code, c]);
    });
    found.sort(function (a, b) { return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0); });
    return found.slice(0, 30).map(function (f) { return f[2]; });
  }

  function className(c) { return EN && c.en ? c.en : c.name; }

  function renderClasses() {
    var q = $("#m-class-q").value;
    var list = $("#m-class-list");
    var rows = searchClasses(q);
    list.textContent = "";
    $("#m-class-hint").textContent = q.trim()
      ? (rows.length ? T("找到 " + rows.length + " 项", rows.length + " found") : T("没有找到，换个说法试试", "Nothing found"))
      : (rows.length ? T("常用类别", "Frequent") : T("输入名称或拼音首字母搜索", "Type a name or pinyin initials"));
    rows.forEach(function (c) {
      list.appendChild(el("button", {type: "button", class: "m-option", role: "option", "data-code": c.code,
                                     onclick: function () { choose(c.code); }},
        el("b", {text: className(c)}),
        el("small", {text: c.code + " · " + (EN && c.major_en ? c.major_en : c.major)
                           + (c.kind === "component" ? T(" · 部件", " · component") : T(" · 事件", " · event"))})));
    });
  }

  function choose(code) {
    chosen = code ? byCode[code] : null;
    var box = $("#m-class-chosen");
    box.textContent = "";
    if (chosen) {
      box.appendChild(el("span", {class: "m-chosen-name"}, el("b", {text: className(chosen)}),
                         el("small", {text: " " + chosen.code})));
      box.appendChild(el("button", {type: "button", class: "m-soft", text: T("更换", "Change"),
                                    onclick: function () { choose(null); $("#m-class-q").focus(); }}));
    }
    box.hidden = !chosen;
    $("#m-class-q").hidden = !!chosen;
    $("#m-class-list").hidden = !!chosen;
    $("#m-class-hint").hidden = !!chosen;
    if (!chosen) renderClasses();
    duplicates.check();
  }

  // --- the duplicate warning -------------------------------------------------------------

  var duplicates = {
    key: null, items: [], acknowledged: false, pending: null, seq: 0,
    check: function () {
      var pt = position.point;
      if (!chosen || !pt) { this.reset(); return; }
      var key = [chosen.code, pt.lon.toFixed(6), pt.lat.toFixed(6), pt.crs].join("|");
      if (key === this.key) return;
      this.reset();
      this.key = key;
      if (!navigator.onLine) return;
      var self = this, seq = ++this.seq;
      this.pending = request("GET", "/api/v1/cases/nearby?class_code=" + encodeURIComponent(chosen.code) + "&lon="
                             + pt.lon + "&lat=" + pt.lat + "&crs=" + pt.crs, {timeout: 8000})
        .then(function (res) {
          if (seq !== self.seq || !res.ok) return;
          self.items = (res.data && res.data.items) || [];
          self.render();
        }, function () {})
        .finally(function () { if (seq === self.seq) self.pending = null; });
    },
    reset: function () {
      this.seq++;
      this.key = null;
      this.items = [];
      this.acknowledged = false;
      this.pending = null;
      this.render();
    },
    render: function () {
      var box = $("#m-dup");
      if (!box) return;
      box.textContent = "";
      box.hidden = !this.items.length;
      if (!this.items.length) return;
      var self = this;
      box.appendChild(el("p", {class: "m-dup-title"},
        el("b", {text: "⚠ " + T("附近已有 " + this.items.length + " 件同类未结案件", this.items.length
                                 + " open case(s) of this class nearby")}),
        el("small", {text: T("请确认是否为同一问题，避免重复上报", "Check it is not the same problem")})));
      var list = el("ul", {class: "m-dup-list"});
      this.items.forEach(function (c) {
        list.appendChild(el("li", null,
          el("b", {text: T("约 ", "≈ ") + metres(c.distance_m)}),
          el("span", {text: " · " + c.number + " · " + (EN ? c.state : c.state_name) + " · " + when(Date.parse(c.reported_at))}),
          c.address ? el("small", {text: c.address}) : null));
      });
      box.appendChild(list);
      box.appendChild(el("div", {class: "m-dup-actions"},
        el("button", {type: "button", class: "m-soft", text: T("放弃上报", "Cancel report"),
                      onclick: function () { resetReport(); toast(T("已放弃本次上报", "Report cancelled")); }}),
        el("button", {type: "button", class: "primary", id: "m-dup-go", text: T("仍然上报", "Report anyway"),
                      onclick: function () { self.acknowledged = true; box.hidden = true; submitReport(); }})));
    }
  };

  // --- the report form ---------------------------------------------------------------------

  var before = new PhotoPicker($("#m-photo-input"), $("#m-photos"), $("#m-photo-count"));
  var after = new PhotoPicker($("#m-after-input"), $("#m-photos-after"), $("#m-after-count"));

  function reportError(text) {
    var p = $("#m-report-error");
    p.textContent = text || "";
    p.hidden = !text;
    if (text) p.scrollIntoView({block: "center", behavior: "smooth"});
  }

  function resetReport() {
    before.clear();
    after.clear();
    $("#m-description").value = "";
    $("#m-address").value = "";
    $("#m-self").checked = false;
    selfHandledChanged();
    $("#m-class-q").value = "";
    choose(null);
    duplicates.reset();
    reportError("");
    if (position.manual && position.gps) setPoint(position.gps.lon, position.gps.lat, "wgs84", false);
  }

  function selfHandledChanged() {
    var on = $("#m-self").checked;
    $("#m-after").hidden = !on;
    $("#m-before-label").textContent = on ? T("处理前照片", "Photos before") : T("现场照片", "Photos");
  }

  var submitting = false;
  function submitReport() {
    if (submitting) return;
    reportError("");
    var selfHandled = $("#m-self").checked;
    if (!before.items.length) return reportError(T("请至少拍一张现场照片", "Take at least one photo"));
    if (!position.point) return reportError(T("还没有位置：请等待定位，或在地图上点选", "No position yet: wait for GPS or tap the map"));
    if (position.located === false) return reportError(T("该位置不在本市网格内，请重新选点", "The point is outside the city's grids"));
    if (!chosen) {
      $("#m-class-q").focus();
      return reportError(T("请选择问题类别", "Choose a class"));
    }
    if (selfHandled && !after.items.length) return reportError(T("自处理需要处理后照片", "Self-handled reports need a photo after"));
    submitting = true;
    Promise.resolve(duplicates.pending).then(function () {
      if (duplicates.items.length && !duplicates.acknowledged) {
        $("#m-dup").scrollIntoView({block: "center", behavior: "smooth"});
        reportError(T("附近已有同类案件：请选择放弃或仍然上报", "Similar cases nearby: cancel or report anyway"));
        return;
      }
      var id = uuid4();
      var pt = position.point;
      var photos = before.items.map(function (p) { return {blob: p.blob, stage: "report", sent: false}; })
        .concat(selfHandled ? after.items.map(function (p) { return {blob: p.blob, stage: "handle", sent: false}; }) : []);
      var item = {
        id: id, user: USER, created_at: Date.now(), state: "waiting", attempts: 0, next_at: 0, error: "",
        number: null, class_name: className(chosen),
        payload: {class_code: chosen.code, lon: pt.lon, lat: pt.lat, crs: pt.crs,
                  description: $("#m-description").value.trim(), address: $("#m-address").value.trim(),
                  self_handled: selfHandled, client_uuid: id},
        photos: photos
      };
      return outbox.put(item).then(function () {
        resetReport();
        toast(navigator.onLine ? T("正在发送…", "Sending…") : T("已存在手机上，联网后自动发送", "Saved on the phone: it goes when online"));
        queue.render();
        queue.flush(true);
      }, function () {
        reportError(T("手机存储不可用，无法保存上报", "This browser cannot store the report"));
      });
    }).finally(function () { submitting = false; });
  }

  // --- sending the outbox -------------------------------------------------------------------

  var queue = {
    flushing: false, timer: null, urls: {},
    backoff: function (attempts) {
      var base = Math.min(300000, 5000 * Math.pow(2, Math.max(0, attempts - 1)));
      return base * (0.75 + Math.random() * 0.5);
    },
    flush: function (now) {
      var self = this;
      if (this.flushing) return Promise.resolve();
      this.flushing = true;
      var work = function () {
        return outbox.all().then(function (items) {
          var chain = Promise.resolve();
          items.forEach(function (item) {
            if (item.user !== USER || item.state === "sent" || item.state === "failed") return;
            if (!now && item.next_at > Date.now()) return;
            if (!navigator.onLine) return;
            chain = chain.then(function () { return self.send(item); });
          });
          return chain;
        });
      };
      var run = navigator.locks ? navigator.locks.request("chengguan-outbox", work) : work();
      return run.catch(function () {}).then(function () {
        self.flushing = false;
        self.render();
        self.schedule();
      });
    },
    schedule: function () {
      var self = this;
      clearTimeout(this.timer);
      outbox.all().then(function (items) {
        var next = null;
        items.forEach(function (item) {
          if (item.user === USER && (item.state === "waiting" || item.state === "sending")) {
            next = next === null ? item.next_at : Math.min(next, item.next_at);
          }
        });
        if (next !== null) self.timer = setTimeout(function () { self.flush(false); }, Math.max(1000, next - Date.now()));
      });
    },
    save: function (item) { return outbox.put(item).then(this.render.bind(this)); },
    send: function (item) {
      var self = this;
      item.state = "sending";
      item.attempts += 1;
      item.error = "";
      return this.save(item).then(function () {
        if (item.number) return null;
        return request("POST", "/api/v1/cases", {json: item.payload}).then(function (res) {
          if (!res.ok) throw res;
          item.number = res.data.number;
          return self.save(item);
        });
      }).then(function () {
        return self.skipPhotosAlreadySent(item);
      }).then(function () {
        var chain = Promise.resolve();
        item.photos.forEach(function (photo, index) {
          if (photo.sent || photo.skipped) return;
          chain = chain.then(function () {
            var form = new FormData();
            form.append("file", photo.blob, "photo-" + (index + 1) + ".jpg");
            form.append("stage", photo.stage);
            item.uploading = true;
            return request("POST", "/api/v1/cases/" + item.number + "/attachments", {form: form, timeout: 90000})
              .then(function (res) {
                if (res.ok) {
                  photo.sent = true;
                  photo.blob = null;
                  if (!item.thumb_url && res.data) item.thumb_url = res.data.thumb_url;
                } else if (res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 429) {
                  photo.skipped = apiMessage(res);  // a photo the server will never take: keep the case
                } else {
                  throw res;
                }
                return self.save(item);
              });
          });
        });
        return chain;
      }).then(function () {
        var skipped = item.photos.filter(function (p) { return p.skipped; });
        item.state = "sent";
        item.sent_at = Date.now();
        item.error = skipped.length ? T(skipped.length + " 张照片未能上传：", skipped.length + " photo(s) not taken: ")
                                      + skipped[0].skipped : "";
        item.photos = item.photos.map(function (p) { return {stage: p.stage, sent: p.sent, skipped: p.skipped}; });
        return self.save(item).then(function () {
          toast(T("已上报，案件号 ", "Reported: case ") + item.number, "ok");
          addRecent(item);
        });
      }).catch(function (err) {
        if (err instanceof NetworkError || (err && (err.status >= 500 || err.status === 429 || err.status === 408))) {
          item.state = "waiting";
          item.error = err instanceof NetworkError ? T("等待网络", "Waiting for the network") : apiMessage(err);
          item.next_at = Date.now() + self.backoff(item.attempts);
        } else if (err && err.status === 401) {
          item.state = "login";
          item.error = T("登录已过期：重新登录后自动发送", "Signed out: sign in again and it will be sent");
        } else if (err && err.status) {
          item.state = "failed";
          item.error = apiMessage(err);
        } else {
          item.state = "waiting";
          item.error = String((err && err.message) || err);
          item.next_at = Date.now() + self.backoff(item.attempts);
        }
        return self.save(item);
      });
    },
    // A retry after an answer that never arrived: the server may already hold some photos of
    // this new case (nobody else adds report or handling photos to it in these minutes).
    skipPhotosAlreadySent: function (item) {
      if (!item.uploading || !item.photos.some(function (p) { return !p.sent && !p.skipped; })) return Promise.resolve();
      return request("GET", "/api/v1/cases/" + item.number).then(function (res) {
        if (!res.ok) throw res;
        var held = {};
        (res.data.attachments || []).forEach(function (a) { held[a.stage] = (held[a.stage] || 0) + 1; });
        item.photos.forEach(function (p) {
          if (p.sent) held[p.stage] = (held[p.stage] || 0) - 1;
        });
        item.photos.forEach(function (p) {
          if (!p.sent && !p.skipped && held[p.stage] > 0) {
            p.sent = true;
            p.blob = null;
            held[p.stage] -= 1;
          }
        });
      });
    },
    retry: function (id) {
      var self = this;
      outbox.all().then(function (items) {
        var item = items.filter(function (i) { return i.id === id; })[0];
        if (!item) return;
        item.state = "waiting";
        item.next_at = 0;
        return outbox.put(item).then(function () { self.flush(true); });
      });
    },
    drop: function (id) {
      if (!window.confirm(T("删除这条未发送的上报？", "Delete this unsent report?"))) return;
      outbox.remove(id).then(this.render.bind(this));
    },
    render: function () {
      var self = this;
      return outbox.all().then(function (items) {
        var now = Date.now();
        var mine = items.filter(function (i) { return i.user === USER; });
        var stale = mine.filter(function (i) { return i.state === "sent" && now - i.sent_at > SENT_KEPT_MS; });
        stale.forEach(function (i) { outbox.remove(i.id); });
        mine = mine.filter(function (i) { return stale.indexOf(i) < 0; });
        var others = items.filter(function (i) { return i.user !== USER; }).length;
        var pending = mine.filter(function (i) { return i.state !== "sent"; });
        var list = $("#m-queue-list");
        list.textContent = "";
        Object.keys(self.urls).forEach(function (k) { URL.revokeObjectURL(self.urls[k]); });
        self.urls = {};
        mine.slice().reverse().forEach(function (item) { list.appendChild(self.row(item)); });
        if (others > 0) {
          list.appendChild(el("li", {class: "m-queue-other muted", text: T("另有 " + others + " 条属于其他账号，该账号登录后发送",
                                                                          others + " more belong to another account")}));
        }
        $("#queue").hidden = !mine.length && !others;
        var summary = pending.length ? T("待发送 " + pending.length + " 条", pending.length + " waiting") : T("全部已发送", "All sent");
        $("#m-queue-summary").textContent = summary;
        var badge = $("#m-queue-badge");
        badge.textContent = pending.length || "";
        badge.hidden = !pending.length;
        status(pending.length);
      });
    },
    row: function (item) {
      var labels = {
        waiting: T("等待发送", "Waiting"), sending: T("发送中…", "Sending…"), sent: T("已发送", "Sent"),
        failed: T("发送失败", "Failed"), login: T("需重新登录", "Sign in")
      };
      var thumb = null;
      var first = item.photos && item.photos[0];
      if (first && first.blob) {
        this.urls[item.id] = URL.createObjectURL(first.blob);
        thumb = el("img", {src: this.urls[item.id], alt: "", width: 56, height: 42});
      } else if (item.thumb_url) {
        thumb = el("img", {src: item.thumb_url, alt: "", width: 56, height: 42});
      } else {
        thumb = el("span", {class: "m-nophoto", text: T("无图", "—")});
      }
      var sentPhotos = (item.photos || []).filter(function (p) { return p.sent; }).length;
      var detail = item.state === "sent"
        ? el("a", {href: "/m/cases/" + item.number + "/", text: item.number})
        : el("span", {text: (item.number ? item.number + " · " + T("照片 ", "photos ") + sentPhotos + "/" + item.photos.length + " · " : "")
                             + (item.attempts ? T("已尝试 " + item.attempts + " 次", item.attempts + " tries") : "")});
      var actions = el("span", {class: "m-queue-actions"});
      var offline = !navigator.onLine;
      var note = item.error || (offline && item.state === "waiting" ? T("离线：联网后自动发送", "Offline: goes when online") : "");
      if (!offline && (item.state === "waiting" || item.state === "failed" || item.state === "login")) {
        actions.appendChild(el("button", {type: "button", class: "m-soft", text: T("重试", "Retry"),
                                          onclick: this.retry.bind(this, item.id)}));
      }
      if (item.state === "failed" || (item.state === "waiting" && !item.number)) {
        actions.appendChild(el("button", {type: "button", class: "m-soft m-danger", text: T("删除", "Delete"),
                                          onclick: this.drop.bind(this, item.id)}));
      }
      return el("li", {class: "m-queue-item m-q-" + item.state, "data-id": item.id, "data-state": item.state},
        thumb,
        el("span", {class: "m-queue-text"},
          el("b", {text: item.class_name}),
          el("small", {class: "muted", text: when(item.created_at) + (item.payload.description ? " · " + item.payload.description.slice(0, 24) : "")}),
          detail,
          note ? el("small", {class: "m-queue-error", text: note}) : null),
        el("span", {class: "m-q-state", text: labels[item.state] || item.state}),
        actions);
    }
  };

  function status(pending) {
    var bar = $("#m-status");
    var offline = !navigator.onLine;
    $("#m-online").textContent = offline ? T("● 离线", "● Offline") : "";
    var link = $("#m-queue-link");
    link.textContent = pending ? T("待发送 " + pending + " 条", pending + " waiting to send") : "";
    link.hidden = !pending;
    bar.hidden = !offline && !pending;
    bar.classList.toggle("offline", offline);
  }

  function addRecent(item) {
    var list = $("#m-reports");
    if (!list || $("a[href='/m/cases/" + item.number + "/']", list)) return;
    var empty = $(".m-empty", list);
    if (empty) empty.remove();
    list.insertBefore(el("li", null, el("a", {href: "/m/cases/" + item.number + "/", class: "m-report-row"},
      item.thumb_url ? el("img", {src: item.thumb_url, alt: "", width: 56, height: 42})
        : el("span", {class: "m-nophoto", text: T("无图", "—")}),
      el("span", {class: "m-report-text"}, el("b", {text: item.class_name}),
         el("small", {class: "muted", text: item.number + " · " + when(item.sent_at)})),
      el("span", {class: "m-state", text: T("已上报", "reported")}))), list.firstChild);
    var kpi = $("#kpi-reports");
    if (kpi) kpi.textContent = String(Number(kpi.textContent || 0) + 1);
  }

  // --- tasks nearest first ----------------------------------------------------------------

  function tasksBusy() {
    var box = $("#m-tasks");
    if (!box) return true;
    if (box.contains(document.activeElement) && document.activeElement !== document.body) return true;
    return $$("form.m-act", box).some(function (f) {
      var p = pickers.get(f);
      return (p && p.items.length) || (f.note && f.note.value.trim());
    });
  }

  function refreshTasks(force) {
    var box = $("#m-tasks");
    if (!box || !navigator.onLine || (!force && tasksBusy())) return false;
    var url = "/m/tasks";
    if (position.gps) url += "?lon=" + position.gps.lon.toFixed(6) + "&lat=" + position.gps.lat.toFixed(6);
    fetch(url, {credentials: "same-origin", headers: {"HX-Request": "true"}}).then(function (res) {
      // a signed-out session answers with the sign-in page: keep the list we have
      if (!res.ok || res.redirected) return;
      return res.text().then(function (html) {
        if (!force && tasksBusy()) return;
        box.innerHTML = html;
        var count = $("[data-task-count]", box);
        var badge = $(".m-tabs a[data-tab=tasks] .m-badge", app);
        if (count && badge) {
          badge.textContent = count.dataset.taskCount;
          badge.hidden = count.dataset.taskCount === "0";
        }
      });
    }).catch(function () {});
    return true;
  }

  function tasksNearMe() {
    if (ROLE !== "inspector" || !position.gps) return;
    var last = position.tasksAt;
    if (last && distance(last.lon, last.lat, position.gps.lon, position.gps.lat) < 100) return;
    if (refreshTasks(false)) position.tasksAt = {lon: position.gps.lon, lat: position.gps.lat};
  }

  // --- wiring ---------------------------------------------------------------------------------

  $("#m-report").addEventListener("submit", function (e) { e.preventDefault(); submitReport(); });
  $("#m-self").addEventListener("change", selfHandledChanged);
  $("#m-class-q").addEventListener("input", renderClasses);
  $("#m-class-q").addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    e.preventDefault();
    var first = $("#m-class-list .m-option");
    if (first) choose(first.dataset.code);
  });
  $("#m-locate").addEventListener("click", function () {
    position.manual = false;
    if (position.gps) setPoint(position.gps.lon, position.gps.lat, "wgs84", false);
    else where(T("正在定位…", "Locating…"));
    startGps();
  });
  window.addEventListener("online", function () {
    status(0);
    queue.render();
    queue.flush(true);
    if (position.point) locateSoon();
    duplicates.key = null;
    duplicates.check();
  });
  window.addEventListener("offline", function () { queue.render(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { queue.flush(false); refreshTasks(false); }
  });
  setInterval(function () { if (document.visibilityState === "visible") refreshTasks(false); }, 120000);

  selfHandledChanged();
  renderClasses();
  route();
  startGps();
  if (window.indexedDB) {
    outbox.all().then(function (items) {
      // A page closed mid-send left items "sending": they wait again.
      var chain = Promise.resolve();
      items.forEach(function (item) {
        if (item.user === USER && (item.state === "sending" || item.state === "login")) {
          item.state = "waiting";
          item.next_at = 0;
          chain = chain.then(function () { return outbox.put(item); });
        }
      });
      return chain;
    }).then(function () { return queue.render(); }).then(function () { queue.flush(true); });
  } else {
    reportError(T("此浏览器不能在本机保存上报，离线上报不可用", "This browser cannot keep reports offline"));
  }

  // ---------------------------------------------------------------------------------------
  // verify / check / follow-up forms: photos shrunk, posted with the page session; errors shown
  // in the form, success follows the server's redirect (its message shows on the next page).

  var pickers;
  function bindActionForms() {
    pickers = new WeakMap();
    document.addEventListener("change", function (e) {
      var input = e.target;
      if (!input.matches || !input.matches("form.m-act input[type=file]")) return;
      var form = input.form;
      if (pickers.has(form)) return;
      // First use: the picker takes over this input (it listens from now on) and reads it now.
      // (a listener added now still runs for this event when it reaches the input)
      var picker = new PhotoPicker(input, $(".m-previews", form), null, {max: MAX_PHOTOS});
      input.required = false;
      pickers.set(form, picker);
    }, true);
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (!form.matches || !form.matches("form.m-act")) return;
      e.preventDefault();
      sendAction(form, e.submitter);
    });
  }

  function sendAction(form, submitter) {
    var error = $(".m-act-error", form);
    var picker = pickers.get(form);
    var photos = picker ? picker.items : [];
    function fail(text) { error.textContent = text; error.hidden = false; }
    error.hidden = true;
    if (form.dataset.operation === "check" && !photos.length) return fail(T("请先拍核查照片", "Take a check photo first"));
    if (form.dataset.operation === "follow_up" && !form.note.value.trim()) return fail(T("请填写补充说明", "Write a note"));
    var data = submitter ? new FormData(form, submitter) : new FormData(form);
    data.delete("photos");
    photos.forEach(function (p, i) { data.append("photos", p.blob, "photo-" + (i + 1) + ".jpg"); });
    var buttons = $$("button", form);
    buttons.forEach(function (b) { b.disabled = true; });
    if (submitter) submitter.classList.add("m-busy");
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                        headers: {"HX-Request": "true", "X-CSRFToken": csrfToken()}})
      .then(function (res) {
        var next = res.headers.get("HX-Redirect");
        if (next || res.ok) {
          window.location.assign(next || window.location.href);
          return;
        }
        return res.text().then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html;
          fail(box.textContent.trim() || T("提交失败", "Not accepted"));
        });
      }, function () {
        fail(T("网络不通：请在有信号时再提交（照片和说明仍在）", "No connection: send again when online (your photos are kept)"));
      })
      .finally(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        if (submitter) submitter.classList.remove("m-busy");
      });
  }
})();
