(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("vigil-chart-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, anchor) {
    var t = el("text", { x: x, y: y, "font-size": 11, "text-anchor": anchor || "start", fill: "#444" }, parent);
    t.textContent = s;
  }
  var buckets = data.activity.buckets;
  var svg = document.getElementById("activity-over-time");
  var W = 900, H = 220, top = 14, bottom = 34, left = 48, right = 10;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  var max = 0;
  buckets.forEach(function (b) { if (b[1] > max) { max = b[1]; } });
  var bw = (W - left - right) / Math.max(buckets.length, 1);
  el("line", { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom, stroke: "#888" }, svg);
  text(svg, left - 4, top + 4, String(max), "end");
  text(svg, left - 4, H - bottom, "0", "end");
  buckets.forEach(function (b, i) {
    var h = b[1] > 0 ? Math.max(1, (H - top - bottom) * b[1] / Math.max(max, 1)) : 0;
    var r = el("rect", { "class": "bar", x: left + i * bw + 0.5, y: H - bottom - h,
      width: Math.max(bw - 1, 0.5), height: h, fill: "#3566a8", "data-count": b[1], "data-start": b[0] }, svg);
    el("title", {}, r).textContent = b[0] + ": " + b[1] + " events";
  });
  if (buckets.length > 0) {
    text(svg, left, H - bottom + 16, buckets[0][0].slice(0, 16).replace("T", " "));
    text(svg, W - right, H - bottom + 16, buckets[buckets.length - 1][0].slice(0, 16).replace("T", " "), "end");
  }
  svg.setAttribute("data-drawn", "true");

  var how = data.hour_of_week;
  var grid = document.getElementById("hour-of-week");
  var cw = 30, ch = 22, gl = 40, gt = 18;
  grid.setAttribute("viewBox", "0 0 " + (gl + 24 * cw + 4) + " " + (gt + 7 * ch + 4));
  var days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var hmax = 0;
  how.forEach(function (n) { if (n > hmax) { hmax = n; } });
  for (var h = 0; h < 24; h += 3) { text(grid, gl + h * cw + 2, 12, String(h).padStart(2, "0") + ":00"); }
  how.forEach(function (n, i) {
    var d = Math.floor(i / 24), h = i % 24;
    if (h === 0) { text(grid, 2, gt + d * ch + 15, days[d]); }
    var c = el("rect", { "class": "cell", x: gl + h * cw, y: gt + d * ch, width: cw - 2, height: ch - 2,
      fill: n > 0 ? "#b00020" : "#eeeeee", "fill-opacity": n > 0 ? (0.15 + 0.85 * n / hmax).toFixed(3) : 1,
      "data-count": n }, grid);
    el("title", {}, c).textContent = days[d] + " " + String(h).padStart(2, "0") + ":00 UTC: " + n + " events";
  });
  grid.setAttribute("data-drawn", "true");
})();
