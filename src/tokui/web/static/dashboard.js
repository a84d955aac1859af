// Draws the monthly revenue chart from the JSON the server put in #revenue-data.
// Kept out of the page so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var data = document.getElementById("revenue-data");
  var target = document.getElementById("revenue-chart");
  if (!data || !target || !window.Plotly) {
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
})();
