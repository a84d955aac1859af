// Analyses: filters the catalogue as the user types (charts: charts.js). Kept out of the
// pages so the Content-Security-Policy can forbid inline scripts. The catalogue search
// also works without this script (the form is answered by the server).
(function () {
  "use strict";

  function filterCatalogue() {
    var input = document.getElementById("analysis-search");
    var catalogue = document.getElementById("analysis-catalogue");
    var count = document.getElementById("analysis-count");
    if (!input || !catalogue) {
      return;
    }
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      var groups = catalogue.querySelectorAll(".catalogue-group");
      Array.prototype.forEach.call(groups, function (group) {
        var visible = 0;
        var items = group.querySelectorAll(".catalogue-item");
        Array.prototype.forEach.call(items, function (item) {
          var text = item.getAttribute("data-search") || "";
          var match = words.every(function (w) { return text.indexOf(w) >= 0; });
          item.hidden = !match;
          if (match) {
            visible += 1;
          }
        });
        group.hidden = visible === 0;
        var badge = group.querySelector(".group-count");
        if (badge) {
          badge.textContent = String(visible);
        }
        shown += visible;
      });
      if (count) {
        count.textContent = count.getAttribute("data-template").replace("{found}", String(shown));
      }
    }
    input.addEventListener("input", apply);
  }

  filterCatalogue();
})();
