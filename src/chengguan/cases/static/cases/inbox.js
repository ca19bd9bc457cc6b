/* chengguan — the department inbox: list niceties, photo previews, upload progress, the task map. */
(function () {
  "use strict";
  var english = (document.documentElement.lang || "").indexOf("en") === 0;
  function say(zh, en) { return english ? en : zh; }
  var MAX_BYTES = 10 * 1024 * 1024;

  /* --- forms posted with htmx: show 4xx messages in the form, and say so when the network fails --- */
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (!elt || !elt.closest || !elt.closest("form.act")) return;
    var status = e.detail.xhr.status;
    if (status >= 400 && status < 500) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    } else if (status >= 500) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
      e.detail.serverResponse = '<p class="error" role="alert">' +
        say("服务器出错，请稍后重试。", "The server failed; please try again.") + "</p>";
    }
  });
  document.body.addEventListener("htmx:sendError", function (e) {
    var form = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest("form.act");
    if (!form) return;
    var slot = form.querySelector(".form-error");
    if (slot) {
      slot.innerHTML = '<p class="error" role="alert">' +
        say("网络不通，内容未提交。请检查网络后再点一次。", "No network: nothing was sent. Check the connection and try again.") +
        "</p>";
    }
  });
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest("form.act");
    if (!form) return;
    var slot = form.querySelector(".form-error");
    if (slot) slot.innerHTML = "";
  });

  /* --- upload progress on forms with photos --- */
  document.body.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest && e.target.closest("form.act");
    var bar = form && form.querySelector("progress.upload");
    if (!bar || !e.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    var form = e.target.closest && e.target.closest("form.act");
    var bar = form && form.querySelector("progress.upload");
    if (bar && !e.detail.successful) bar.hidden = true;
  });

  /* --- photos: previews before sending; several shots add up; each can be removed --- */
  function sizeText(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
  }
  function setupPhotos(input) {
    var field = input.closest(".photo-field");
    var list = field && field.querySelector("[data-previews]");
    if (!list) return;
    var canKeep = typeof DataTransfer === "function";
    var files = [];
    var urls = [];
    function render() {
      urls.forEach(function (u) { URL.revokeObjectURL(u); });
      urls = [];
      if (canKeep) {
        try {
          var dt = new DataTransfer();
          files.forEach(function (f) { dt.items.add(f); });
          input.files = dt.files;
        } catch (err) { canKeep = false; }
      }
      list.innerHTML = "";
      files.forEach(function (f, i) {
        var li = document.createElement("li");
        li.className = "preview";
        var img = document.createElement("img");
        var url = URL.createObjectURL(f);
        urls.push(url);
        img.src = url;
        img.alt = f.name;
        li.appendChild(img);
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = sizeText(f.size);
        if (f.size > MAX_BYTES || (f.type && f.type.indexOf("image/") !== 0)) {
          li.classList.add("bad");
          meta.textContent = f.size > MAX_BYTES ? say("超过 10 MB", "over 10 MB") : say("不是图片", "not an image");
        }
        li.appendChild(meta);
        if (canKeep) {
          var remove = document.createElement("button");
          remove.type = "button";
          remove.className = "remove";
          remove.setAttribute("aria-label", say("移除这张照片", "Remove this photo"));
          remove.textContent = "×";
          remove.addEventListener("click", function () { files.splice(i, 1); render(); });
          li.appendChild(remove);
        }
        list.appendChild(li);
      });
      field.classList.toggle("has-photos", files.length > 0);
      var count = field.querySelector(".photo-count");
      if (!count) {
        count = document.createElement("span");
        count.className = "photo-count";
        field.querySelector(".photo-pick").after(count);
      }
      count.textContent = files.length ? say("已选 " + files.length + " 张", files.length + " chosen") : "";
    }
    input.addEventListener("change", function () {
      var picked = Array.prototype.slice.call(input.files || []);
      if (!canKeep) files = [];
      picked.forEach(function (f) {
        var known = files.some(function (g) {
          return g.name === f.name && g.size === f.size && g.lastModified === f.lastModified;
        });
        if (!known) files.push(f);
      });
      render();
    });
  }
  document.querySelectorAll("[data-photo-input]").forEach(setupPhotos);

  /* --- the list: whole rows open the task; the search form follows the tab in view --- */
  document.addEventListener("click", function (e) {
    var tr = e.target.closest && e.target.closest("tr[data-href]");
    if (!tr || e.target.closest("a, button, input, label")) return;
    if (window.getSelection && String(window.getSelection())) return;
    window.location.href = tr.getAttribute("data-href");
  });
  function syncSearch() {
    var list = document.getElementById("inbox-list");
    var form = document.getElementById("inbox-search");
    if (!list || !form) return;
    form.elements.tab.value = list.getAttribute("data-tab") || "open";
    form.elements.light.value = list.getAttribute("data-light") || "";
  }
  document.body.addEventListener("htmx:afterSettle", syncSearch);

  /* --- the list refreshes itself: at once when the page is seen again; new tasks flash; the title counts them --- */
  function shownNumbers() {
    return Array.prototype.map.call(document.querySelectorAll("#inbox-list tr[data-case]"), function (tr) {
      return tr.getAttribute("data-case");
    });
  }
  var before = null;
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    var list = document.getElementById("inbox-list");
    if (list && e.detail.target === list) before = { tab: list.getAttribute("data-tab"), numbers: shownNumbers() };
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    var list = document.getElementById("inbox-list");
    if (!list) return;
    if (before && before.tab === list.getAttribute("data-tab")) {
      document.querySelectorAll("#inbox-list tr[data-case]").forEach(function (tr) {
        if (before.numbers.indexOf(tr.getAttribute("data-case")) < 0) tr.classList.add("new");
      });
    }
    before = null;
    var count = list.querySelector('.inbox-tabs a[data-tab="dispatched"] .count');
    var title = document.title.replace(/^\(\d+\)\s*/, "");
    var n = count ? parseInt(count.textContent, 10) : 0;
    document.title = n > 0 ? "(" + n + ") " + title : title;
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") document.dispatchEvent(new CustomEvent("inbox-seen"));
  });

  /* --- "/" jumps to the search box --- */
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var target = e.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var box = document.querySelector("#inbox-search input[name=q]");
    if (box) { e.preventDefault(); box.focus(); box.select(); }
  });

  /* --- photos open large in a dialog --- */
  var dialog = document.getElementById("photo-view");
  if (dialog && typeof dialog.showModal === "function") {
    document.addEventListener("click", function (e) {
      var link = e.target.closest && e.target.closest("a.photo[data-photo]");
      if (!link) return;
      e.preventDefault();
      dialog.querySelector("img").src = link.getAttribute("data-photo");
      dialog.querySelector("a.original").href = link.href;
      dialog.showModal();
    });
    dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
  }

  /* --- the task's place: the point on its grid, with or without background tiles --- */
  var el = document.getElementById("task-map");
  if (el && window.L) {
    var lon = parseFloat(el.getAttribute("data-lon"));
    var lat = parseFloat(el.getAttribute("data-lat"));
    var tiles = el.getAttribute("data-tiles");
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!tiles }).setView([lat, lon], 17);
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: el.getAttribute("data-attribution") || "" }).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    var point = L.circleMarker([lat, lon], {
      radius: 9, color: "#fff", weight: 3, fillColor: "#d64545", fillOpacity: 1
    }).addTo(map).bindTooltip(say("案件位置", "The case"));
    var grid = el.getAttribute("data-grid");
    var d = 0.004;
    var bbox = [lon - d, lat - d, lon + d, lat + d].map(function (v) { return v.toFixed(6); }).join(",");
    fetch("/api/v1/geo/grids?bbox=" + bbox, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc || !fc.features) return;
        L.geoJSON(fc, {
          interactive: true,
          style: function (f) {
            return f.properties.code === grid
              ? { color: "#0b5cad", weight: 2.5, fillColor: "#0b5cad", fillOpacity: 0.1 }
              : { color: "#7b8794", weight: 1, fillColor: "#cbd2d9", fillOpacity: 0.06 };
          },
          onEachFeature: function (f, layer) {
            layer.bindTooltip(say("网格 ", "Grid ") + f.properties.code, { sticky: true });
          }
        }).addTo(map);
        point.bringToFront();
      })
      .catch(function () { /* the point alone still shows where to go */ });
  }
})();
