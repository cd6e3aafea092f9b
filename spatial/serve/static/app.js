// ecozone serve pages: zoning map, drawing, result markers, progress polling.  No network beyond this server.
(function () {
  "use strict";
  var VERDICT_COLOURS = { prohibited: "#d7191c", restricted: "#fdae61", notice: "#2b83ba", compatible: "#1a9641" };
  var VERDICT_ZH = { prohibited: "禁止", restricted: "限制", notice: "关注", compatible: "符合" };
  var VERDICT_SYMBOL = { prohibited: "✕", restricted: "▲", notice: "◆", compatible: "●" };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " " + r.status); }
      return r.json();
    });
  }

  function zoningLayer(map, url, fit) {
    if (!url) { return Promise.resolve(null); }
    return getJSON(url).then(function (fc) {
      var layer = L.geoJSON(fc, {
        style: function (f) { return f.properties.style || {}; },
        pointToLayer: function (f, latlng) { return L.circleMarker(latlng, Object.assign({ radius: 4 }, f.properties.style || {})); },
        onEachFeature: function (f, l) {
          l.bindTooltip(esc(f.properties.layer_zh) + (f.properties.name ? "：" + esc(f.properties.name) : ""), { sticky: true });
        }
      }).addTo(map);
      layer.bringToBack();
      if (fit && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { animate: false }); }
      map.getContainer().setAttribute("data-zoning-loaded", String(fc.features.length));
      layer.legendHtml = fc.legend || "";
      return layer;
    });
  }

  // The map key of map.html under the map (so it never hides the county): zoning classes (rows built by the server) and verdict symbols.
  function showLegend(box, zoningHtml, sitesHtml) {
    if (!box) { return; }
    box.innerHTML = "<details open><summary>图例</summary><div class=\"eco-lg-body\">" + zoningHtml + sitesHtml + "</div></details>";
  }

  // Labels that would overlap one already shown are hidden until zooming makes room (most severe verdict first).
  function declutter(labelled) {
    var boxes = [], rank = { prohibited: 0, restricted: 1, notice: 2, compatible: 3 };
    labelled.sort(function (a, b) { return (rank[a.verdict] === undefined ? 9 : rank[a.verdict]) - (rank[b.verdict] === undefined ? 9 : rank[b.verdict]); });
    labelled.forEach(function (x) {
      var t = x.layer.getTooltip && x.layer.getTooltip(), el = t && t._container;
      if (!el) { return; }
      el.style.visibility = "";
      var r = el.getBoundingClientRect();
      if (!r.width) { return; }
      var hit = boxes.some(function (b) { return r.left < b.right && r.right > b.left && r.top < b.bottom && r.bottom > b.top; });
      if (hit) { el.style.visibility = "hidden"; } else { boxes.push(r); }
    });
  }

  function chineseDraw() {
    if (!L.drawLocal) { return; }
    var d = L.drawLocal.draw;
    d.toolbar.actions = { title: "取消绘制", text: "取消" };
    d.toolbar.finish = { title: "完成绘制", text: "完成" };
    d.toolbar.undo = { title: "删除最后一个点", text: "撤销一点" };
    d.toolbar.buttons = { polyline: "绘制线（线性工程）", polygon: "绘制面（地块）", rectangle: "绘制矩形", circle: "绘制圆", marker: "标注点位", circlemarker: "标注点位" };
    d.handlers.marker.tooltip.start = "单击地图放置点位";
    d.handlers.polygon.tooltip = { start: "单击开始绘制面", cont: "单击继续绘制", end: "单击第一个点闭合" };
    d.handlers.polyline.tooltip = { start: "单击开始绘制线", cont: "单击继续绘制", end: "单击最后一个点结束" };
    var e = L.drawLocal.edit;
    e.toolbar.buttons = { edit: "编辑图形", editDisabled: "没有可编辑的图形", remove: "删除图形", removeDisabled: "没有可删除的图形" };
    e.toolbar.actions = { save: { title: "保存修改", text: "保存" }, cancel: { title: "取消编辑", text: "取消" }, clearAll: { title: "清除全部", text: "全部清除" } };
  }

  function drawPage(map, el) {
    chineseDraw();
    var drawn = new L.FeatureGroup().addTo(map);
    map.addControl(new L.Control.Draw({
      edit: { featureGroup: drawn },
      draw: { polygon: { allowIntersection: false, showArea: false }, polyline: {}, marker: {}, rectangle: false, circle: false, circlemarker: false }
    }));
    var count = document.getElementById("drawn-count");
    var nameBox = document.getElementById("site_name");
    function names(n) {
      var base = nameBox && nameBox.value.trim();
      var out = [];
      for (var i = 0; i < n; i++) { out.push(base ? (n > 1 ? base + (i + 1) : base) : "绘制图形" + (i + 1)); }
      return out;
    }
    function sync() {
      var fc = drawn.toGeoJSON();
      var nm = names(fc.features.length);
      fc.features.forEach(function (f, i) { f.properties = { name: nm[i] }; });
      document.getElementById("drawn").value = fc.features.length ? JSON.stringify(fc) : "";
      if (count) { count.textContent = String(fc.features.length); }
      scheduleCheck();
    }
    // Instant check: every edit asks /api/check (debounced); the verdict shows beside each parcel and in the panel.
    var timer = null, seq = 0;
    var liveVerdict = document.getElementById("live-verdict"), liveNote = document.getElementById("live-note"), liveDetail = document.getElementById("live-detail");
    function scheduleCheck() { if (timer) { clearTimeout(timer); } timer = setTimeout(runCheck, 300); }
    function showLive(verdict, text) {
      if (!liveVerdict) { return; }
      liveVerdict.textContent = text;
      liveVerdict.setAttribute("data-verdict", verdict || "");
      liveVerdict.style.color = VERDICT_COLOURS[verdict] || "";
    }
    function runCheck() {
      var layers = drawn.getLayers();
      if (!layers.length) { showLive("", "—"); if (liveDetail) { liveDetail.innerHTML = ""; } return; }
      var typeSel = document.getElementById("project_type");
      var ptype = typeSel ? typeSel.value : "";
      if (!ptype) { showLive("", "—"); if (liveNote) { liveNote.textContent = "请先选择项目类型，再看即时结论。"; } return; }
      var fc = drawn.toGeoJSON();
      var ver = document.getElementById("zoning_version");
      var csrf = document.querySelector("input[name=csrf_token]");
      var mine = ++seq;
      if (liveNote) { liveNote.textContent = "核查中…"; }
      fetch("/api/check", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
        body: JSON.stringify({ geometries: fc.features.map(function (f) { return f.geometry; }), names: names(fc.features.length), project_type: ptype, zoning_version: ver ? ver.value : "", facts: false })
      }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); }).then(function (res) {
        if (mine !== seq) { return; }  // a newer edit is on its way
        var ok = res[0], body = res[1];
        if (!ok) { showLive("", "—"); if (liveNote) { liveNote.textContent = body.error || "核查失败"; } return; }
        showLive(body.verdict, (VERDICT_SYMBOL[body.verdict] || "") + " " + body.verdict_zh);
        if (liveNote) { liveNote.textContent = "（" + body.elapsed_ms + " ms，未提交任务）"; }
        var html = "";
        body.sites.forEach(function (s, i) {
          var l = layers[i];
          var c = VERDICT_COLOURS[s.verdict] || "#6a3d9a";
          if (l && l.setStyle) { l.setStyle({ color: c, fillColor: c }); }
          if (l) { l.unbindTooltip(); l.bindTooltip(esc(s.name) + "：" + (VERDICT_SYMBOL[s.verdict] || "") + esc(s.verdict_zh), { permanent: true, direction: "right", className: "live-tip live-" + s.verdict }).openTooltip(); }
          html += "<p><b>" + esc(s.name) + "</b>：" + esc(s.verdict_zh) + "。" + esc(s.summary_zh) + "</p><ul>" +
            s.findings.map(function (f) { return "<li>" + esc(f.layer_zh) + "：" + esc(f.message_zh) + "<br><small>依据：" + esc(f.basis) + "</small></li>"; }).join("") + "</ul>";
        });
        if (liveDetail) { liveDetail.innerHTML = html; }
      }).catch(function () { if (mine === seq && liveNote) { liveNote.textContent = "核查失败，请稍后重试。"; } });
    }
    window.ecozoneDrawn = drawn;
    map.on(L.Draw.Event.CREATED, function (ev) { drawn.addLayer(ev.layer); sync(); });
    map.on(L.Draw.Event.EDITED, sync);
    map.on(L.Draw.Event.EDITVERTEX, sync);  // a vertex moved while editing: check again before 保存
    map.on(L.Draw.Event.EDITMOVE, sync);
    map.on(L.Draw.Event.DELETED, sync);
    if (nameBox) { nameBox.addEventListener("input", sync); }
    var typeBox = document.getElementById("project_type");
    if (typeBox) { typeBox.addEventListener("change", scheduleCheck); }
    var select = document.getElementById("zoning_version");
    var current = null;
    zoningLayer(map, el.getAttribute("data-zoning"), true).then(function (l) { current = l; });
    if (select) {
      select.addEventListener("change", function () {
        var opt = select.options[select.selectedIndex];
        if (current) { map.removeLayer(current); }
        zoningLayer(map, opt.getAttribute("data-map"), false).then(function (l) { current = l; });
      });
    }
    var form = document.getElementById("new-form");
    if (form) { form.addEventListener("submit", function () { sync(); document.getElementById("submit").disabled = true; }); }
  }

  function resultPage(map, el) {
    var job = el.getAttribute("data-job");
    var markers = JSON.parse(el.getAttribute("data-markers") || "{}");
    var labelMax = parseInt(el.getAttribute("data-label-max") || "60", 10);
    var labelZoom = parseInt(el.getAttribute("data-label-zoom") || "12", 10);
    var siteKey = document.getElementById("site-legend");
    zoningLayer(map, el.getAttribute("data-zoning"), false).then(function (zl) {
      showLegend(document.getElementById("map-legend"), zl ? zl.legendHtml : "", siteKey ? siteKey.innerHTML : "");
      return getJSON(el.getAttribute("data-sites"));
    }).then(function (fc) {
      var n = 0, labelled = [], label = fc.features.length <= labelMax;
      var sites = L.geoJSON(fc, {
        style: function (f) {  // as map.html: the outline and a light fill in the verdict colour
          var c = VERDICT_COLOURS[f.properties.verdict] || "#6a3d9a";
          return { color: c, weight: 3, opacity: 1, fillColor: c, fillOpacity: 0.25, className: "verdict-marker verdict-" + f.properties.verdict };
        },
        pointToLayer: function (f, latlng) {  // the verdict's symbol (✕ ▲ ◆ ●), not only its colour
          var v = f.properties.verdict;
          return L.marker(latlng, { keyboard: false, riseOnHover: true, icon: L.divIcon({
            html: markers[v] || markers.site || "", className: "eco-mark verdict-marker verdict-" + v,
            iconSize: [24, 24], iconAnchor: [12, 12], tooltipAnchor: [4, 0], popupAnchor: [0, -10] }) });
        },
        onEachFeature: function (f, l) {
          n += 1;
          var p = f.properties;
          l.bindPopup("<b>" + esc(p.name) + "</b>（" + esc(p.site_id) + "）<br>结论：" + esc(VERDICT_ZH[p.verdict] || p.verdict) +
            "<br>" + esc(p.summary_zh) + "<br><a href='/screenings/" + esc(job) + "/sites/" + encodeURIComponent(p.site_id) + "'>逐项对照</a>");
          if (label) {  // the site's id, and its name from zoom labelZoom on (map.html's labels)
            l.bindTooltip("<span class=\"eco-lbl-id\">" + esc(p.site_id) + "</span><span class=\"eco-lbl-name\"> " + esc(p.name) + "</span>",
              { permanent: true, direction: "right", offset: [9, 0], className: "eco-site-label" });
            labelled.push({ layer: l, verdict: p.verdict });
          } else {
            l.bindTooltip(esc(p.name || p.site_id), { sticky: true });
          }
        }
      }).addTo(map);
      function near() { L.DomUtil[map.getZoom() >= labelZoom ? "addClass" : "removeClass"](map.getContainer(), "eco-near"); }
      var pending = null;
      function redo() { clearTimeout(pending); pending = setTimeout(function () { window.requestAnimationFrame(function () { declutter(labelled); }); }, 60); }
      map.on("zoomend", near);
      map.on("zoomend moveend resize", redo);
      if (sites.getBounds().isValid()) { map.fitBounds(sites.getBounds().pad(0.05), { maxZoom: 14, animate: false }); }
      near();
      redo();
      el.setAttribute("data-sites-loaded", String(n));
    });
  }

  var seen = {};  // first (time, percent) per bar: the estimate is the rate since then
  function eta(key, pct) {
    var now = Date.now(), s = seen[key];
    if (!s || pct < s.p) { seen[key] = { t: now, p: pct }; return ""; }
    if (pct <= s.p || pct >= 100) { return ""; }
    var left = (now - s.t) / 1000 * (100 - pct) / (pct - s.p);
    return "预计还需约 " + (left < 60 ? Math.max(1, Math.round(left)) + " 秒" : Math.round(left / 60) + " 分钟");
  }

  function pollJob(box) {
    var id = box.getAttribute("data-job");
    var status = box.getAttribute("data-status");
    if (status !== "queued" && status !== "running") { return; }
    var timer = setInterval(function () {
      getJSON("/api/screenings/" + id).then(function (doc) {
        var bar = document.getElementById("progress"), pct = document.getElementById("pct"), stage = document.getElementById("stage");
        if (bar) { bar.value = doc.progress; }
        if (pct) { pct.textContent = doc.progress; }
        if (stage) { stage.textContent = doc.stage; }
        var e = document.getElementById("eta");
        if (e) { e.textContent = eta("job", doc.progress); }
        if (doc.status === "done" || doc.status === "failed") { clearInterval(timer); window.location.reload(); }
      }).catch(function () { /* keep polling: the server may be busy */ });
    }, 1000);
  }

  function pollFiles(p) {  // the verdicts are shown; reload once the files are written
    if (p.getAttribute("data-files") !== "pending") { return; }
    var timer = setInterval(function () {
      getJSON("/api/screenings/" + p.getAttribute("data-job")).then(function (doc) {
        if (doc.files_status !== "pending") { clearInterval(timer); window.location.reload(); return; }
        var bar = document.getElementById("files-progress"), st = document.getElementById("files-stage"), e = document.getElementById("files-eta");
        if (bar && doc.files_progress !== null) { bar.value = doc.files_progress; }
        if (st && doc.files_stage_zh) { st.textContent = doc.files_stage_zh; }
        if (e && doc.files_stage) { e.textContent = eta(doc.files_stage, doc.files_progress || 0); }
      }).catch(function () {});
    }, 1000);
  }

  function pollVersion(p) {
    var id = p.getAttribute("data-version");
    var timer = setInterval(function () {
      getJSON("/api/zoning/" + id).then(function (v) {
        if (v.status !== "validating") { clearInterval(timer); window.location.reload(); }
      }).catch(function () {});
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("map");
    if (el && window.L) {
      var map = L.map(el, { preferCanvas: false, zoomControl: true }).setView([24.8, 112.4], 9);
      L.control.scale({ imperial: false }).addTo(map);
      window.ecozoneMap = map;
      if (el.getAttribute("data-mode") === "draw") { drawPage(map, el); } else { resultPage(map, el); }
    }
    var box = document.getElementById("job");
    if (box) { pollJob(box); }
    var fs = document.getElementById("files-state");
    if (fs) { pollFiles(fs); }
    var v = document.getElementById("validating");
    if (v) { pollVersion(v); }
  });
})();
