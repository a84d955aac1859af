// Measurement pages: wires the print button of the weekly report (charts: charts.js). Kept
// out of the pages so the Content-Security-Policy can forbid inline scripts; the browser's
// own print works without it.
(function () {
  "use strict";

  function wirePrint() {
    var buttons = document.querySelectorAll("[data-print]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  wirePrint();
})();
