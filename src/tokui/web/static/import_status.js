// Polls a running import's status and reloads the page when it has finished.
// Kept out of the page so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var panel = document.getElementById("job");
  if (!panel || panel.getAttribute("data-state") !== "running") {
    return;
  }
  var url = panel.getAttribute("data-status-url");
  var step = document.getElementById("job-step");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (job) {
        if (job.state === "running") {
          if (step) {
            step.textContent = job.step;
          }
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }
  window.setTimeout(poll, 500);
})();
