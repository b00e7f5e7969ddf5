// The console's live parts: one EventSource on /console/events; the queue and the open
// conversation re-fetch their server-rendered fragments when an event concerns them.
// Urgent hand-offs and danger alert: a tone, a browser notification, a count in the title.
(function () {
  "use strict";
  const body = document.body;
  const prefix = body.dataset.prefix || "/console";
  const page = body.dataset.page;
  if (!page) return;
  const baseTitle = document.title;
  let unseen = 0;

  async function refresh(url, target) {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (response.redirected || !response.ok) return;
    // What the operator has typed (or had translated) survives the refresh, focus too.
    const focused = document.activeElement;
    const kept = Array.from(target.querySelectorAll("textarea"))
      .filter((t) => t.value)
      .map((t) => ({ name: t.name, value: t.value, form: t.form.action, focus: t === focused }));
    const preview = target.querySelector("#preview");
    target.innerHTML = await response.text();
    kept.forEach(function (k) {
      const again = Array.from(target.querySelectorAll("textarea")).find(
        (t) => t.name === k.name && t.form.action === k.form);
      if (again) { again.value = k.value; if (k.focus) again.focus(); }
    });
    const reply = target.querySelector("#reply-text");
    if (preview && reply) reply.closest("label").before(preview);
    wire(target);
  }

  function tone() {
    try {
      const context = new (window.AudioContext || window.webkitAudioContext)();
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, context.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + 0.6);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start();
      oscillator.stop(context.currentTime + 0.6);
    } catch (error) { /* no sound on this device */ }
  }

  function alertUrgent(text) {
    unseen += 1;
    document.title = "(" + unseen + ") " + baseTitle;
    body.dataset.alerts = String(unseen);
    tone();
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(text, { tag: "hotline-urgent" });
    }
  }

  window.addEventListener("focus", function () {
    unseen = 0;
    document.title = baseTitle;
    body.dataset.alerts = "0";
  });

  const allow = document.getElementById("allow-alerts");
  if (allow && "Notification" in window && Notification.permission === "default") {
    allow.hidden = false;
    allow.addEventListener("click", function () {
      Notification.requestPermission().then(function () { allow.hidden = true; });
    });
  }

  // A voice message recorded here (MediaRecorder) goes into the file field and is sent like a
  // chosen file (the server makes it OGG Opus). While one is recorded or waits to be sent, the
  // live part is not refreshed: that would drop it.
  let holding = false;

  function recorder(root) {
    const button = root.querySelector("#record");
    if (!button || !window.MediaRecorder || !navigator.mediaDevices) return;
    button.hidden = false;
    const input = root.querySelector("#file");
    const flag = root.querySelector("#recorded");
    const player = root.querySelector("#recording");
    const status = root.querySelector("#record-status");
    const label = button.textContent;
    let running = null;
    button.addEventListener("click", async function () {
      if (running) {
        running.stop();
        return;
      }
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (error) {
        status.textContent = button.dataset.denied;
        return;
      }
      const chunks = [];
      const started = new MediaRecorder(stream);
      running = started;
      started.ondataavailable = function (event) { if (event.data.size) chunks.push(event.data); };
      started.onstop = function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        const type = started.mimeType || "audio/webm";
        const blob = new Blob(chunks, { type: type });
        const moved = new DataTransfer();
        const name = "voice." + (type.indexOf("ogg") >= 0 ? "ogg" : "webm");
        moved.items.add(new File([blob], name, { type: type }));
        input.files = moved.files;
        flag.value = "1";
        player.src = URL.createObjectURL(blob);
        player.hidden = false;
        status.textContent = button.dataset.ready;
        button.textContent = label;
        running = null;
      };
      holding = true;
      started.start();
      button.textContent = button.dataset.stop;
      status.textContent = "";
    });
    input.addEventListener("change", function () {
      flag.value = "0";
      player.hidden = true;
      holding = false;
    });
  }

  function wire(root) {
    recorder(root);
    const transcript = root.querySelector("#transcript");
    if (transcript) transcript.scrollTop = transcript.scrollHeight;  // the newest message in view
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }
  wire(document);

  const queue = document.getElementById("queue");
  const live = document.getElementById("live");
  const conv = body.dataset.conv;
  const urgentText = body.dataset.urgentText || "!";
  const dangerText = body.dataset.dangerText || urgentText;
  // From the moment the page's data was read, so nothing that happened while it loaded is missed.
  const since = body.dataset.since;
  const events = new EventSource(prefix + "/events" + (since ? "?since=" + since : ""));
  events.onmessage = function (message) {
    const event = JSON.parse(message.data);
    // The server says whom an event alerts: urgent hand-offs routed to this operator, and danger
    // said while handed off (everyone while it waits; its holder and the supervisors once held).
    if (event.alert) alertUrgent(event.kind === "danger" ? dangerText : urgentText);
    if (queue) refresh(prefix + "/queue", queue);
    if (live && event.conv === conv && !holding) refresh(prefix + "/c/" + conv + "/live", live);
  };
  if (queue) setInterval(function () { refresh(prefix + "/queue", queue); }, 30000);
})();
