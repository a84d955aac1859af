// Draws every chart the server put in <script type="application/json" data-chart-for="ID">
// (analyses, saved analyses on the dashboard, measurement pages). Kept out of the pages so
// the Content-Security-Policy can forbid inline scripts; every page also shows its numbers
// in a table, so nothing is lost without it.
(function () {
  "use strict";
  if (!window.Plotly) {
    return;
  }
  var blocks = document.querySelectorAll("script[type='application/json'][data-chart-for]");
  Array.prototype.forEach.call(blocks, function (block) {
    var target = document.getElementById(block.getAttribute("data-chart-for"));
    if (!target) {
      return;
    }
    var figure = JSON.parse(block.textContent);
    window.Plotly.newPlot(target, figure.data, figure.layout, {
      displaylogo: false,
      displayModeBar: false,
      responsive: true,
    }).then(function () {
      target.setAttribute("data-rendered", "true");
    });
  });
})();
