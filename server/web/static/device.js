// Parc device page: draws the health charts with the vendored uPlot. No inline script (CSP):
// each chart's container names its JSON URL, metric and range in data attributes. Once a
// chart is drawn its container gets data-drawn="true" (browser tests wait for it), and
// data-points the number of points drawn.
(function () {
  "use strict";

  var COLOURS = ["#1f5fbf", "#b3261e", "#1d7a3a", "#a86400", "#6b21a8", "#0e7490", "#be185d", "#4b5563"];

  function chartWidth(figure) {
    return Math.max(260, Math.floor(figure.getBoundingClientRect().width) - 8);
  }

  function options(figure, series) {
    var unit = figure.getAttribute("data-unit") || "";
    var lines = [{}];
    series.lines.forEach(function (line, index) {
      lines.push({
        label: line.label,
        stroke: COLOURS[index % COLOURS.length],
        width: 1.5,
        value: function (_u, v) { return v == null ? "—" : v.toFixed(1) + " " + unit; }
      });
    });
    var scales = { x: { time: true } };
    if (unit === "%") {
      scales.y = { range: [0, 100] };
    }
    return {
      width: chartWidth(figure),
      height: 180,
      series: lines,
      scales: scales,
      axes: [{}, { values: function (_u, ticks) { return ticks.map(function (t) { return t + " " + unit; }); }, size: 60 }]
    };
  }

  function draw(figure, series) {
    var old = figure.querySelector(".uplot, .chart-empty");
    if (old) { old.remove(); }
    if (figure._plot) { figure._plot.destroy(); figure._plot = null; }
    var data = [series.times].concat(series.lines.map(function (line) { return line.values; }));
    if (!series.times.length || !series.lines.length) {
      var empty = document.createElement("p");
      empty.className = "chart-empty muted";
      empty.textContent = "No data in this range.";
      figure.appendChild(empty);
    } else {
      figure._plot = new window.uPlot(options(figure, series), data, figure);
    }
    figure.setAttribute("data-points", String(series.times.length));
    figure.setAttribute("data-drawn", "true");
  }

  function load(figure) {
    var url = figure.getAttribute("data-series-url") +
      "?metric=" + encodeURIComponent(figure.getAttribute("data-metric")) +
      "&range=" + encodeURIComponent(figure.getAttribute("data-range"));
    figure.removeAttribute("data-drawn");
    figure.setAttribute("aria-busy", "true");
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (series) { draw(figure, series); })
      .catch(function (error) {
        figure.setAttribute("data-error", String(error.message || error));
      })
      .then(function () { figure.removeAttribute("aria-busy"); });
  }

  function charts() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
  }

  function start() {
    if (!window.uPlot) { return; }
    charts().forEach(load);
    document.querySelectorAll(".range-tabs [data-range]").forEach(function (tab) {
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        var range = tab.getAttribute("data-range");
        document.querySelectorAll(".range-tabs [data-range]").forEach(function (other) {
          var active = other === tab;
          other.classList.toggle("active", active);
          if (active) { other.setAttribute("aria-current", "true"); } else { other.removeAttribute("aria-current"); }
        });
        charts().forEach(function (figure) {
          figure.setAttribute("data-range", range);
          load(figure);
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
