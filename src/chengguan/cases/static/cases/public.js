/* The citizens' portal: the report form (map pin, photos shrunk on the phone, class search,
   sending with the photos in one request), the thank-you page, the case's small map and the
   list of cases reported from this device. Plain browser JavaScript, no build step. */
(function () {
  "use strict";

  var MINE_KEY = "chengguan.public.mine";
  var MAX_SIDE = 1600;  // photos are shrunk to this many pixels on their longer side
  var QUALITY = 0.85;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function strings() {
    var node = document.getElementById("pub-strings");
    return node ? JSON.parse(node.textContent) : {};
  }

  // --- cases reported from this device --------------------------------------------------------

  function mine() {
    try { return JSON.parse(localStorage.getItem(MINE_KEY) || "[]"); } catch (e) { return []; }
  }

  function remember(number) {
    try {
      var list = mine().filter(function (n) { return n !== number; });
      list.unshift(number);
      localStorage.setItem(MINE_KEY, JSON.stringify(list.slice(0, 10)));
    } catch (e) { /* private mode: nothing to remember */ }
  }

  function showMine() {
    var box = $(".pub-mine");
    var list = mine();
    if (!box || !list.length) return;
    var ul = $(".pub-mine-list", box);
    list.forEach(function (number) {
      if (!/^[0-9]{8,20}$/.test(number)) return;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/public/cases/" + number + "/";
      a.textContent = number;
      li.appendChild(a);
      ul.appendChild(li);
    });
    box.hidden = false;
  }

  // --- maps -------------------------------------------------------------------------------------

  function baseMap(node, options) {
    var map = L.map(node, Object.assign({ zoomControl: true, attributionControl: !!node.dataset.tiles }, options || {}));
    if (node.dataset.tiles) {
      L.tileLayer(node.dataset.tiles, { maxZoom: 19, attribution: node.dataset.attribution || "" }).addTo(map);
    }
    return map;
  }

  function drawRegions(map, url, fit) {
    return fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc || !fc.features) return null;
        var districts = fc.features.filter(function (f) { return f.properties.level === "district"; });
        var streets = fc.features.filter(function (f) { return f.properties.level === "street"; });
        var land = L.geoJSON(districts, {
          interactive: false,
          style: { color: "#0b5cad", weight: 2, fillColor: "#ffffff", fillOpacity: 0.75 }
        }).addTo(map);
        var labels = [];
        var streetLayer = L.geoJSON(streets, {
          interactive: false,
          style: { color: "#6b8fb8", weight: 1.2, dashArray: "4 3", fill: false },
          onEachFeature: function (feature, layer) {
            var tip = L.tooltip({ permanent: true, direction: "center", className: "pub-street-label" })
              .setContent(feature.properties.name)
              .setLatLng(layer.getBounds().getCenter());
            labels.push(tip);
          }
        }).addTo(map);
        function toggleLabels() {
          var show = map.getZoom() >= 11;
          labels.forEach(function (tip) {
            if (show && !map.hasLayer(tip)) tip.addTo(map);
            if (!show && map.hasLayer(tip)) map.removeLayer(tip);
          });
        }
        map.on("zoomend", toggleLabels);
        if (fit && land.getBounds().isValid()) map.fitBounds(land.getBounds(), { padding: [10, 10] });
        toggleLabels();
        return { land: land, streets: streetLayer };
      })
      .catch(function () { return null; });
  }

  // --- the report form --------------------------------------------------------------------------

  function reportPage(root) {
    var text = strings();
    var form = $("#report-form", root);
    var mapNode = $("#pub-map", root);
    var status = $("#place-status", root);
    var lon = form.elements.lon, lat = form.elements.lat;
    var shots = [];  // {file, url}
    var maxPhotos = +root.dataset.maxPhotos || 4;
    var locating = null;

    if (!form.elements.client_uuid.value) form.elements.client_uuid.value = uuid4();

    // The map: vector boundaries always, background tiles when the city has them.
    var map = baseMap(mapNode);
    window.publicMap = map;
    map.setView([30.05, 119.96], 11);
    drawRegions(map, mapNode.dataset.regions, !lon.value).then(function () {
      if (lon.value && lat.value) setPoint(L.latLng(+lat.value, +lon.value), true);
    });
    var gridLayer = L.geoJSON(null, { interactive: false, style: { color: "#94a9c2", weight: 0.8, fill: false } }).addTo(map);
    var gridKey = "";
    map.on("moveend", function () {
      if (map.getZoom() < 16) { gridLayer.clearLayers(); gridKey = ""; return; }
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      if (bbox === gridKey) return;
      gridKey = bbox;
      fetch(mapNode.dataset.grids + "&bbox=" + bbox).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (fc) { if (fc && gridKey === bbox) { gridLayer.clearLayers(); gridLayer.addData(fc); } });
    });

    var pin = L.divIcon({ className: "pub-pin", html: "<span></span>", iconSize: [28, 28], iconAnchor: [14, 28] });
    var marker = null;

    function say(html, cls) {
      status.innerHTML = "";
      var span = document.createElement("span");
      span.className = cls || "";
      span.textContent = html;
      status.appendChild(span);
    }

    function setPoint(latlng, quiet) {
      if (!marker) {
        marker = L.marker(latlng, { icon: pin, draggable: true, keyboard: false }).addTo(map);
        marker.on("dragend", function () { setPoint(marker.getLatLng()); });
      } else {
        marker.setLatLng(latlng);
      }
      lon.value = ""; lat.value = "";
      if (!quiet) say(text.locating, "muted");
      var url = mapNode.dataset.locate + "&lon=" + latlng.lng.toFixed(7) + "&lat=" + latlng.lat.toFixed(7);
      var request = fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (answer) {
          if (request !== locating) return;
          var element = marker.getElement();
          if (answer.ok) {
            lon.value = latlng.lng.toFixed(7);
            lat.value = latlng.lat.toFixed(7);
            if (element) element.classList.remove("outside");
            var b = answer.body;
            say("✓ " + text.chosen + "：" + [b.district, b.street, b.community].filter(Boolean).join(" · "), "ok");
            clearError("location");
          } else {
            if (element) element.classList.add("outside");
            say(text.outside, "error");
          }
        })
        .catch(function () { if (request === locating) say(text.failed, "error"); });
      locating = request;
      return request;
    }

    map.on("click", function (e) { setPoint(e.latlng); });

    $("#locate-me", root).addEventListener("click", function () {
      if (!navigator.geolocation) { say(text.noGeo, "error"); return; }
      say(text.finding, "muted");
      navigator.geolocation.getCurrentPosition(function (position) {
        var here = L.latLng(position.coords.latitude, position.coords.longitude);
        map.setView(here, Math.max(map.getZoom(), 17));
        setPoint(here);
      }, function () { say(text.noGeo, "error"); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });

    // Photos: shrunk in the browser, kept here, sent with the form.
    var photoList = $("#photo-list", root);
    $all(".pub-photo-input", root).forEach(function (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        input.value = "";
        addPhotos(files);
      });
    });

    function addPhotos(files) {
      clearError("photos");
      files.forEach(function (file) {
        if (shots.length >= maxPhotos) { showError("photos", text.tooMany); return; }
        if (!/^image\//.test(file.type || "")) { showError("photos", text.notImage); return; }
        var slot = { file: file, url: "" };
        shots.push(slot);
        shrink(file).then(function (small) {
          slot.file = small;
          slot.url = URL.createObjectURL(small);
          drawPhotos();
        });
      });
    }

    function drawPhotos() {
      photoList.innerHTML = "";
      shots.forEach(function (slot, index) {
        if (!slot.url) return;
        var li = document.createElement("li");
        var img = document.createElement("img");
        img.src = slot.url;
        img.alt = slot.file.name;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "×";
        remove.title = text.remove;
        remove.setAttribute("aria-label", text.remove);
        remove.addEventListener("click", function () {
          URL.revokeObjectURL(slot.url);
          shots.splice(index, 1);
          drawPhotos();
        });
        li.appendChild(img);
        li.appendChild(remove);
        photoList.appendChild(li);
      });
    }

    // Kinds of problem: everyday words, pinyin initials, the standard's names.
    var search = $("#class-search", root);
    var all = $("#class-all", root);
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      var any = false;
      $all(".pub-chip", root).forEach(function (chip) {
        var hit = !q || matches(chip.dataset.search, q);
        chip.hidden = !hit;
        if (hit && (q || !chip.closest(".pub-all"))) any = true;
      });
      $all(".pub-class-group", root).forEach(function (group) {
        group.hidden = !!q && !$all(".pub-chip", group).some(function (c) { return !c.hidden; });
      });
      if (all) all.open = !!q && !all.hidden;
      $("#class-none", root).hidden = !q || any;
    });
    search.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
    var chosen = $("#class-chosen", root);
    function showChosen() {
      var input = form.querySelector("input[name=class_code]:checked");
      chosen.textContent = "";
      if (!input) return;
      var chip = input.closest(".pub-chip");
      var standard = chip.dataset.standard;
      chosen.textContent = chosen.dataset.prefix + chip.textContent.trim() +
        (standard ? "（" + chosen.dataset.standardPrefix + "：" + standard + "）" : "");
    }
    showChosen();
    form.addEventListener("change", function (e) {
      if (e.target.name === "class_code") { clearError("class_code"); showChosen(); }
    });

    // Sending: everything in one multipart request; errors come back naming the field.
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      clearAll();
      var problems = {};
      if (!lon.value || !lat.value) problems.location = text.needPlace;
      if (!form.querySelector("input[name=class_code]:checked")) problems.class_code = text.needClass;
      if (!form.elements.description.value.trim() && !shots.length) problems.description = text.needWords;
      if (Object.keys(problems).length) { showErrors(problems); return; }
      var button = $("#submit-report", root);
      var label = button.textContent;
      button.disabled = true;
      button.textContent = text.sending;
      var body = new FormData(form);
      body.delete("photos");
      shots.forEach(function (slot) { body.append("photos", slot.file, slot.file.name); });
      fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          return r.json().then(function (answer) { return { ok: r.ok, answer: answer }; },
                              function () { return { ok: false, answer: { errors: { form: text.failed } } }; });
        })
        .then(function (result) {
          if (result.ok && result.answer.url) {
            remember(result.answer.number);
            window.location.assign(result.answer.url);
            return;
          }
          showErrors(result.answer.errors || { form: text.failed });
          button.disabled = false;
          button.textContent = label;
        })
        .catch(function () {
          showErrors({ form: text.failed });
          button.disabled = false;
          button.textContent = label;
        });
    });

    function fieldBox(field) {
      if (field === "address") return $("#field-description", root);
      if (field === "reporter_name" || field === "reporter_phone") return $("#field-contact", root);
      return $("#field-" + field, root);
    }

    function showError(field, message) {
      var slot = root.querySelector("[data-error='" + field + "']");
      if (field === "location") { say(message, "error"); }
      else if (slot) { slot.textContent = message; }
      var box = fieldBox(field);
      if (box && box.classList.contains("pub-field")) box.classList.add("has-error");
    }

    function clearError(field) {
      var slot = root.querySelector("[data-error='" + field + "']");
      if (slot) slot.textContent = "";
      var box = fieldBox(field);
      if (box) box.classList.remove("has-error");
      var item = root.querySelector("#error-summary li[data-field='" + field + "']");
      if (item) item.remove();
      var summary = $("#error-summary", root);
      if (summary && !summary.querySelector("li")) summary.hidden = true;
    }

    function clearAll() {
      $all("[data-error]", root).forEach(function (slot) { slot.textContent = ""; });
      $all(".pub-field.has-error", root).forEach(function (box) { box.classList.remove("has-error"); });
      var summary = $("#error-summary", root);
      summary.hidden = true;
      $("ul", summary).innerHTML = "";
    }

    function showErrors(errors) {
      var summary = $("#error-summary", root);
      var ul = $("ul", summary);
      ul.innerHTML = "";
      var first = null;
      Object.keys(errors).forEach(function (field) {
        showError(field, errors[field]);
        var li = document.createElement("li");
        li.dataset.field = field;
        li.textContent = errors[field];
        ul.appendChild(li);
        first = first || fieldBox(field);
      });
      summary.hidden = false;
      (first || summary).scrollIntoView({ behavior: "smooth", block: "start" });
    }
  }

  function matches(haystack, q) {
    if (haystack.indexOf(q) >= 0) return true;
    return q.split(/\s+/).every(function (word) { return word && haystack.indexOf(word) >= 0; });
  }

  function shrink(file) {
    if (!window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size < 1.5 * 1024 * 1024) return file;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg" }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function uuid4() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- thank-you page ---------------------------------------------------------------------------

  function thanksPage(root) {
    remember(root.dataset.number);
    $all(".pub-copy", root).forEach(function (button) {
      button.addEventListener("click", function () {
        var value = button.dataset.copy;
        var done = function () { button.textContent = button.dataset.done; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(value).then(done, function () { select(); });
        } else {
          select();
        }
        function select() {
          var range = document.createRange();
          range.selectNodeContents($("#case-number", root));
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          try { if (document.execCommand("copy")) done(); } catch (e) { /* selected: the reader copies */ }
        }
      });
    });
  }

  // --- the case's small map ---------------------------------------------------------------------

  function casePage(root) {
    var node = $("#pub-minimap", root);
    if (!node || !window.L) return;
    var here = L.latLng(+node.dataset.lat, +node.dataset.lon);
    var map = baseMap(node, { dragging: false, scrollWheelZoom: false, doubleClickZoom: false, touchZoom: false,
                              boxZoom: false, keyboard: false, zoomControl: false });
    map.setView(here, 13);
    drawRegions(map, node.dataset.regions, false).then(function (layers) {
      var name = "";
      if (layers) {
        layers.streets.eachLayer(function (layer) {
          if (layer.feature.properties.code === node.dataset.street) {
            name = layer.feature.properties.name;
            layer.setStyle({ fill: true, fillColor: "#cfe0f5", fillOpacity: 0.6, weight: 2, dashArray: null });
          }
        });
      }
      var circle = L.circle(here, { radius: 150, color: "#d64545", weight: 2, fillColor: "#d64545", fillOpacity: 0.3 });
      circle.addTo(map);
      if (name) circle.bindTooltip(name, { permanent: true, direction: "top", className: "pub-street-label" });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-page]");
    if (!root) return;
    var page = root.dataset.page;
    if (page === "home") showMine();
    if (page === "report") reportPage(root);
    if (page === "thanks") thanksPage(root);
    if (page === "case") casePage(root);
  });
})();
