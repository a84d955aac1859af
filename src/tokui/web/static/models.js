// Draws the model cards' charts from the JSON the server put in <script type="application/json">.
// Kept out of the page so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  if (!window.Plotly) {
    return;
  }
  var targets = document.querySelectorAll("[data-chart]");
  Array.prototype.forEach.call(targets, function (target) {
    var data = document.getElementById(target.getAttribute("data-chart"));
    if (!data) {
      return;
    }
    var figure = JSON.parse(data.textContent);
    window.Plotly.newPlot(target, figure.data, figure.layout, {
      displaylogo: false,
      displayModeBar: false,
      responsive: true,
    }).then(function () {
      target.setAttribute("data-rendered", "true");
    });
  });
})();
