// The leaflet's Print button (no inline script: the console's CSP allows only its own files).
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
