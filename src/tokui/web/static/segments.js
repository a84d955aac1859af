// Segments: draws the size-over-time chart, and gives the builder its live count.
// Kept out of the pages so the Content-Security-Policy can forbid inline scripts. The
// builder works without this script: every button posts the form and the server
// answers with the count. With it, each edit posts the same fields as JSON to the count
// endpoint (CSRF token in a header) and the count and messages update in place.
(function () {
  "use strict";

  function drawChart() {
    var data = document.getElementById("size-data");
    var target = document.getElementById("size-chart");
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
  }

  function fields(form) {
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token" || name === "action" || typeof value !== "string") {
        return;
      }
      (data[name] = data[name] || []).push(value);
    });
    return data;
  }

  function showErrors(form, errors) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-error-for]"), function (list) {
      var messages = errors[list.getAttribute("data-error-for")] || [];
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      messages.forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      });
    });
  }

  function builder() {
    var form = document.getElementById("segment-builder");
    var output = document.getElementById("live-count");
    if (!form || !output || !window.fetch) {
      return;
    }
    var token = form.querySelector("input[name=csrf_token]").value;
    var url = form.getAttribute("data-count-url");
    var editing = form.getAttribute("data-editing");
    var sequence = 0;
    var timer = null;

    function update() {
      var mine = ++sequence;
      output.setAttribute("aria-busy", "true");
      output.setAttribute("data-state", "counting");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify({ fields: fields(form), editing: editing || null }),
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (result) {
          if (mine !== sequence) {
            return; // an older answer arriving after a newer one
          }
          output.removeAttribute("aria-busy");
          showErrors(form, result.errors || {});
          var definition = document.getElementById("definition-text");
          if (definition) {
            definition.textContent = result.ok ? result.description : "";
            definition.hidden = !result.ok;
          }
          if (result.ok) {
            output.textContent = result.text;
            output.setAttribute("data-members", String(result.members));
            output.setAttribute("data-state", "ok");
          } else {
            output.textContent = result.error || "—";
            output.removeAttribute("data-members");
            output.setAttribute("data-state", "invalid");
          }
        })
        .catch(function () {
          output.removeAttribute("aria-busy");
          output.setAttribute("data-state", "failed");
        });
    }

    function soon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 250);
    }

    // A new field or operator changes which inputs fit; the server draws them.
    function rerender() {
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.value = "refresh";
      form.appendChild(action);
      try {
        window.sessionStorage.setItem("tokui-builder-scroll", String(window.scrollY));
      } catch (e) {
        // storage may be off; the page then simply starts at the top
      }
      form.submit();
    }

    form.addEventListener("input", function (event) {
      if (!event.target.hasAttribute("data-rerender")) {
        soon();
      }
    });
    form.addEventListener("change", function (event) {
      if (event.target.hasAttribute("data-rerender")) {
        rerender();
      } else {
        soon();
      }
    });
    try {
      var y = window.sessionStorage.getItem("tokui-builder-scroll");
      if (y !== null) {
        window.sessionStorage.removeItem("tokui-builder-scroll");
        window.scrollTo(0, parseInt(y, 10) || 0);
      }
    } catch (e) {
      // see above
    }
    update();
  }

  drawChart();
  builder();
})();
