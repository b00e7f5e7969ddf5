// The embeddable web chat. An NGO pastes one tag into its page:
//   <script src="https://HOTLINE-HOST/widget.js" data-ref="YOUR-CODE" defer></script>
// It adds a round button that opens the chat in a frame served by the hotline (no other site). The
// hotline lets only the sites registered for the NGO's code frame the chat.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var origin = new URL(script.src).origin;
  var ref = (script.getAttribute("data-ref") || "").replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64);
  var label = script.getAttribute("data-label") || "💬";
  // Where the chat's "leave quickly" button takes the whole page: honoured by the hotline only for a
  // page of a site registered for the NGO (default: a search page).
  var exit = script.getAttribute("data-exit") || "";

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-label", "Chat · แชท · Trò chuyện · ជជែក");
  button.style.cssText = "position:fixed;right:16px;bottom:16px;width:56px;height:56px;border-radius:50%;" +
    "border:0;background:#1f5f8b;color:#fff;font-size:24px;box-shadow:0 2px 8px rgba(0,0,0,.3);z-index:2147483647;cursor:pointer";

  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = origin + "/?ref=" + encodeURIComponent(ref) + "&embed=1" +
        (exit ? "&exit=" + encodeURIComponent(exit) : "");
      frame.title = "Chat";
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.style.cssText = "position:fixed;right:16px;bottom:84px;width:min(380px,calc(100vw - 32px));" +
        "height:min(600px,calc(100vh - 110px));border:1px solid #c4cad2;border-radius:12px;background:#fff;" +
        "box-shadow:0 4px 16px rgba(0,0,0,.25);z-index:2147483647";
      document.body.appendChild(frame);
    } else {
      frame.style.display = frame.style.display === "none" ? "" : "none";
    }
  });
  document.body.appendChild(button);
})();
