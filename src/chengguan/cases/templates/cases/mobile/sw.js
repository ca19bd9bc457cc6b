{% autoescape off %}/* 城管通 service worker: keeps the field page (/m/) and its files so that it opens without signal.
 * Pages: network first, the kept copy when there is no network. Static files: the kept copy,
 * refreshed in the background. My duty grids and photo thumbnails: kept as they are seen.
 * Everything else (reports, actions) goes to the network: the page's outbox handles no signal.
 */
"use strict";
var VERSION = "{{ version }}";
var CACHE = "chengguan-field-" + VERSION;
var SHELL = {{ shell|default:"[]" }};
var PAGE = "/m/";
var SLOW_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL).then(function () {
      return fetch(PAGE, {credentials: "same-origin"}).then(function (res) {
        if (res.ok && !res.redirected) return cache.put(PAGE, res);
      }).catch(function () {});
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("chengguan-field-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function offlinePage() {
  var html = '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
    + '<title>离线 · Offline</title><body style="font-family:system-ui,sans-serif;padding:2rem;line-height:1.6">'
    + '<h1>当前离线</h1><p>这个页面还没有保存在手机上。<a href="/m/">回到城管通</a>，上报会先存在手机上，联网后自动发送。</p>'
    + '<p lang="en">You are offline and this page is not kept on the phone. <a href="/m/">Back to the field page</a>.</p>';
  return new Response(html, {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}});
}

// Network first, but a slow network does not keep a person waiting when a kept copy exists.
function page(request, url) {
  var key = url.pathname === PAGE ? PAGE : url.pathname;
  return caches.open(CACHE).then(function (cache) {
    var network = fetch(request).then(function (res) {
      if (res.ok && !res.redirected && res.type === "basic") cache.put(key, res.clone());
      return res;
    });
    return new Promise(function (resolve) {
      var done = false;
      function finish(res) { if (!done && res) { done = true; resolve(res); } }
      var timer = setTimeout(function () {
        cache.match(key).then(function (hit) { if (hit) finish(hit); });
      }, SLOW_MS);
      network.then(function (res) { clearTimeout(timer); finish(res); }, function () {
        clearTimeout(timer);
        cache.match(key).then(function (hit) { finish(hit || offlinePage()); });
      });
    });
  });
}

function keptThenRefreshed(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      var network = fetch(request).then(function (res) {
        if (res.ok) cache.put(request, res.clone());
        return res;
      });
      if (hit) { network.catch(function () {}); return hit; }
      return network;
    });
  });
}

function networkThenKept(request) {
  return caches.open(CACHE).then(function (cache) {
    return fetch(request).then(function (res) {
      if (res.ok) cache.put(request, res.clone());
      return res;
    }, function () {
      return cache.match(request).then(function (hit) { return hit || Response.error(); });
    });
  });
}

function keptFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      return hit || fetch(request).then(function (res) {
        if (res.ok) cache.put(request, res.clone());
        return res;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname.indexOf("/m/") === 0) event.respondWith(page(request, url));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(keptThenRefreshed(request));
  } else if (url.pathname === "/m/grids.json") {
    event.respondWith(networkThenKept(request));
  } else if (/^\/api\/v1\/cases\/[^/]+\/attachments\/\d+$/.test(url.pathname) && url.searchParams.get("variant") === "thumb") {
    event.respondWith(keptFirst(request));
  }
});
{% endautoescape %}
