// Scenario editor: re-draws the form when a choice changes which inputs fit (the trigger
// type, a send step's channel, a step id that other steps may point to) and keeps the
// scroll position across that round trip. Kept out of the page so the
// Content-Security-Policy can forbid inline scripts; the editor works without it (each
// button posts the form, and an "apply" button stands in for the automatic re-draw).
(function () {
  "use strict";

  var KEY = "tokui-scenario-scroll";
  var form = document.getElementById("scenario-editor");
  if (!form) {
    return;
  }
  document.documentElement.classList.add("js");

  function rerender() {
    var action = document.createElement("input");
    action.type = "hidden";
    action.name = "action";
    action.value = "refresh";
    form.appendChild(action);
    remember();
    form.submit();
  }

  function remember() {
    try {
      window.sessionStorage.setItem(KEY, String(window.scrollY));
    } catch (e) {
      // storage may be off; the page then simply starts at the top
    }
  }

  form.addEventListener("change", function (event) {
    if (event.target.hasAttribute("data-rerender")) {
      rerender();
    }
  });
  // Adding, moving and removing re-draw the page at the same place; checking and saving
  // start at the top, where the outcome is.
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.value !== "save" && button.value !== "check") {
      remember();
    }
  });
  try {
    var y = window.sessionStorage.getItem(KEY);
    if (y !== null) {
      window.sessionStorage.removeItem(KEY);
      window.scrollTo(0, parseInt(y, 10) || 0);
    }
  } catch (e) {
    // see above
  }
})();
