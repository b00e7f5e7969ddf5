// The web chat page: sends what the person types, shows the replies from the server's event stream.
// The chat id lives in sessionStorage: closing the tab forgets it on a shared phone. It is the chat's
// only credential, so it goes in request bodies only, never in a URL (proxies log URLs).
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var ref = (params.get("ref") || "").replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64);
  // Where "leave quickly" goes, as the server decided: a search page, or the widget's data-exit
  // when that is a page of a site registered for the NGO.
  var exit = document.body.getAttribute("data-exit");
  var store = tabStorage();
  var client = store.getItem("chat.client");
  if (!client) {
    client = randomId();
    store.setItem("chat.client", client);
  }
  var messages = document.getElementById("messages");
  var buttons = document.getElementById("buttons");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var status = document.getElementById("status");
  // Shown while a message waits to be sent again (too many at once); in the three languages, as
  // the page does not know which one the person reads.
  var SLOW_DOWN = "⏳ รอสักครู่ · Chờ một chút · សូមរង់ចាំបន្តិច";
  // A photo, recording or file: at most this big (bot/media.py), shown as its kind, never its name
  // (a name can say too much on a shared phone).
  var MOST_BYTES = 20 * 1024 * 1024;
  var TOO_BIG = "⚠ ไฟล์ใหญ่เกินไป · Tệp quá lớn · ឯកសារធំពេក (20 MB)";

  var events = null;
  restore();
  listen();

  // Leave quickly: forget this tab's chat, blank the page, and replace this page in the history
  // with a neutral site (the browser's own history of visits cannot be erased from a page).
  document.getElementById("leave").addEventListener("click", leave);

  function leave() {
    if (events) events.close();
    store.clear();
    document.body.innerHTML = "";
    document.title = "";
    try {
      if (params.get("embed") && window.top !== window) {
        window.top.location.replace(exit);
        return;
      }
    } catch (error) { /* the page around the frame is another site: leave the frame at least */ }
    location.replace(exit);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (text) {
      send(text, text);
      input.value = "";
    }
  });
  document.getElementById("attach").addEventListener("click", function () {
    document.getElementById("file").click();
  });
  document.getElementById("camera").addEventListener("click", function () {
    document.getElementById("photo").click();
  });
  ["file", "photo"].forEach(function (id) {
    var picker = document.getElementById(id);
    picker.addEventListener("change", function () {
      var chosen = picker.files && picker.files[0];
      picker.value = "";
      if (!chosen) return;
      if (chosen.size > MOST_BYTES) {
        status.textContent = TOO_BIG;
        return;
      }
      upload(chosen);
    });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // In a frame on another site the browser may deny storage (third-party storage blocked): the
  // chat then lives in this page's memory only.
  function tabStorage() {
    try {
      return window.sessionStorage;
    } catch (error) {
      var kept = {};
      return {
        getItem: function (key) { return key in kept ? kept[key] : null; },
        setItem: function (key, value) { kept[key] = String(value); },
        clear: function () { kept = {}; },
      };
    }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function send(text, shown) {
    var body = JSON.stringify({ client: client, id: randomId(), text: text, ref: ref });
    post(shown, function () {
      return fetch("/chat/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: body,
      });
    });
  }

  function upload(file) {
    var kind = file.type.split("/")[0];
    var shown = { image: "📷", audio: "🎤", video: "🎬" }[kind] || "📄";
    var headers = {
      "Content-Type": "application/octet-stream",
      "X-Chat-Client": client,
      "X-Message-Id": randomId(),
      "X-Chat-Ref": ref,
    };
    post(shown, function () {
      return fetch("/chat/media", { method: "POST", headers: headers, body: file });
    });
  }

  function post(shown, request) {
    var bubble = show("person", shown, true);
    remember({ from: "person", text: shown });
    buttons.innerHTML = "";
    deliver(request, bubble, 0);
  }

  // Retries with the same id until the server has it: the server ignores repeats.
  function deliver(request, bubble, attempt) {
    request().then(function (response) {
      if (response.status === 202) {
        bubble.classList.remove("pending");
        status.textContent = "";
      } else if (response.status === 429) {
        // Too many at once: sent again by itself when the server says, nothing is lost.
        var seconds = parseInt(response.headers.get("Retry-After") || "10", 10);
        status.textContent = SLOW_DOWN;
        setTimeout(function () { deliver(request, bubble, attempt); }, seconds * 1000);
      } else if (response.status >= 500) {
        retry();
      } else {
        bubble.classList.add("pending");
        status.textContent = response.status === 413 ? TOO_BIG : "⚠ " + response.status;
      }
    }).catch(retry);
    function retry() {
      setTimeout(function () { deliver(request, bubble, attempt + 1); }, Math.min(1000 * 2 ** attempt, 15000));
    }
  }

  // The stream opens with a one-use ticket; to reconnect, the page asks for a new one and resumes
  // after the last reply it showed.
  function listen() {
    fetch("/chat/tickets", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ client: client }),
    }).then(function (response) {
      if (response.status === 201) {
        return response.json().then(function (answer) { openStream(answer.ticket); });
      }
      var seconds = parseInt(response.headers.get("Retry-After") || "2", 10);
      setTimeout(listen, seconds * 1000);
    }).catch(function () { setTimeout(listen, 2000); });
  }

  function openStream(ticket) {
    var since = store.getItem("chat.since") || "0-0";
    var source = new EventSource("/chat/events?ticket=" + encodeURIComponent(ticket) +
      "&since=" + encodeURIComponent(since));
    events = source;
    source.onopen = function () { status.textContent = ""; };
    source.onerror = function () {
      // The browser would reconnect with the used ticket: reconnect with a new one instead.
      source.close();
      status.textContent = "…";
      setTimeout(listen, 2000);
    };
    source.onmessage = function (event) {
      var data = JSON.parse(event.data);
      store.setItem("chat.since", event.lastEventId);
      // Buttons belong to the latest answer: an operator's reply takes away the waiting ones.
      buttons.innerHTML = "";
      data.replies.forEach(function (reply) {
        if (reply.exit) {
          leave();  // the safe word, typed: the same as the button
          return;
        }
        if (reply.text) {
          show("bot", reply.text, false);
          remember({ from: "bot", text: reply.text });
        }
        if (reply.file) {
          attach(reply.file);
          remember({ from: "bot", file: reply.file });
        }
        if (reply.listen) {
          var heard = [reply.listen.ogg, reply.listen.path];
          play(heard);
          remember({ from: "bot", sound: heard });
        }
        if (reply.buttons && reply.buttons.length) {
          offer(reply.buttons);
        }
      });
    };
  }

  function offer(list) {
    buttons.innerHTML = "";
    list.forEach(function (button) {
      var element = document.createElement("button");
      element.type = "button";
      element.textContent = button.title;
      element.addEventListener("click", function () { send(button.payload, button.title); });
      buttons.appendChild(element);
    });
    messages.scrollTop = messages.scrollHeight;  // the buttons took room: the newest stays in view
  }

  // A text read aloud (🔊): a player that starts at once, the person having just asked for it.
  // OGG Opus first, M4A for browsers that play no Opus.
  function play(paths, restored) {
    var item = document.createElement("li");
    item.className = "bot sound";
    var player = document.createElement("audio");
    player.controls = true;
    player.preload = "none";
    [].concat(paths).forEach(function (path) {
      var source = document.createElement("source");
      source.src = path;
      source.type = path.indexOf(".ogg") >= 0 ? "audio/ogg; codecs=opus" : "audio/mp4";
      player.appendChild(source);
    });
    player.setAttribute("aria-label", "🔊 ฟัง · Nghe · ស្ដាប់");
    item.appendChild(player);
    messages.appendChild(item);
    messages.scrollTop = messages.scrollHeight;
    if (!restored) {
      player.play().catch(function () { /* the browser wants a tap first: the controls are there */ });
    }
  }

  // A photo, recording, video or file from the hotline, by a link that works for an hour.
  function attach(file) {
    var item = document.createElement("li");
    item.className = "bot file";
    var shown;
    if (file.kind === "image") {
      shown = document.createElement("img");
      shown.alt = "📷";
    } else if (file.kind === "audio" || file.kind === "video") {
      shown = document.createElement(file.kind);
      shown.controls = true;
      shown.preload = "none";
      shown.setAttribute("aria-label", file.kind === "audio" ? "🎤" : "🎬");
    } else {
      shown = document.createElement("a");
      shown.textContent = "📄 PDF";
      shown.href = file.url;
      shown.target = "_blank";
      shown.rel = "noopener";
    }
    if (file.kind !== "file") shown.src = file.url;
    item.appendChild(shown);
    messages.appendChild(item);
    messages.scrollTop = messages.scrollHeight;
  }

  function show(who, text, pending) {
    var item = document.createElement("li");
    item.className = who + (pending ? " pending" : "");
    item.textContent = text;
    messages.appendChild(item);
    messages.scrollTop = messages.scrollHeight;
    return item;
  }

  // What this tab has shown, so a reload does not blank the conversation.
  function remember(line) {
    var lines = JSON.parse(store.getItem("chat.lines") || "[]");
    lines.push(line);
    store.setItem("chat.lines", JSON.stringify(lines.slice(-200)));
  }

  function restore() {
    JSON.parse(store.getItem("chat.lines") || "[]").forEach(function (line) {
      if (line.sound) {
        play(line.sound, true);
      } else if (line.file) {
        attach(line.file);
      } else {
        show(line.from, line.text, false);
      }
    });
  }
})();
