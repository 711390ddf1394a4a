// Draws every <canvas data-chart="ID"> from the JSON config in <script type="application/json" id="ID">.
// The server renders the same chart as SVG inside <noscript> and in the PDF.
(function () {
  function draw() {
    if (typeof Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var spec = document.getElementById(canvas.dataset.chart);
      if (!spec) return;
      var config = JSON.parse(spec.textContent);
      var chart = new Chart(canvas, config);
      canvas.dataset.drawn = "1";
      canvas.chart = chart;
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
