/* Reloads the ops dashboard every data-seconds while "Refresh every N s" is ticked and the page
   is visible; never while a control has the focus (a keyboard user is in the middle of
   something). The choice is remembered in this browser. */
(function () {
  "use strict";
  var box = document.getElementById("auto-refresh");
  if (!box) { return; }
  var seconds = parseInt(box.getAttribute("data-seconds"), 10) || 30;
  box.checked = window.localStorage.getItem("ops-auto-refresh") !== "off";
  box.addEventListener("change", function () {
    window.localStorage.setItem("ops-auto-refresh", box.checked ? "on" : "off");
  });
  window.setInterval(function () {
    var active = document.activeElement;
    var busy = active && active !== document.body && active.matches("a, button, input, select, textarea, summary");
    if (box.checked && document.visibilityState === "visible" && !busy) {
      window.location.reload();
    }
  }, seconds * 1000);
}());
