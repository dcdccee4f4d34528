/* ticketgate chat widget: posts the visitor's messages, shows the conversation.
 * No build step, no dependencies. The server signs every message; this page only keeps the
 * session token the server gave it (localStorage, falling back to memory).
 * While the page is visible it polls GET <endpoint>?since=<cursor> every POLL_MS for what is
 * new (the agents' answers), backs off on errors, and stops while the page is hidden.
 * Message text is only ever set as textContent, never as HTML. */
(function () {
  "use strict";
  var root = document.getElementById("chat");
  var endpoint = root.getAttribute("data-endpoint");
  var storageKey = "ticketgate-chat:" + root.getAttribute("data-workspace");
  var log = document.getElementById("chat-log");
  var empty = document.getElementById("chat-empty");
  var statusLine = document.getElementById("chat-status");
  var form = document.getElementById("chat-form");
  var text = document.getElementById("chat-text");
  var send = document.getElementById("chat-send");
  var POLL_MS = 4000;            // between polls while the page is visible
  var MAX_BACKOFF_MS = 60000;     // longest wait after errors in a row
  var shown = {};
  var memoryToken = null;
  var cursor = null;              // the server's cursor of the newest message seen
  var failures = 0;               // failed polls in a row
  var timer = null;
  var polling = false;            // a poll is in flight

  function loadToken() {
    try { return window.localStorage.getItem(storageKey) || memoryToken; }
    catch (e) { return memoryToken; }
  }

  function saveToken(token) {
    memoryToken = token;
    try { window.localStorage.setItem(storageKey, token); } catch (e) { /* memory only */ }
  }

  function forgetToken() {
    memoryToken = null;
    try { window.localStorage.removeItem(storageKey); } catch (e) { /* memory only */ }
  }

  function clock(iso) {
    var when = iso ? new Date(iso) : new Date();
    return isNaN(when) ? "" : when.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  }

  function addMessage(msg) {
    if (msg.id && shown[msg.id]) { return; }
    if (msg.id) { shown[msg.id] = true; }
    if (empty && empty.parentNode) { empty.parentNode.removeChild(empty); }
    var item = document.createElement("li");
    var mine = msg.direction !== "out";
    item.className = "chat__msg " + (mine ? "chat__msg--mine" : "chat__msg--theirs");
    item.setAttribute("data-id", msg.id || "");
    item.setAttribute("data-direction", mine ? "in" : "out");
    var who = document.createElement("span");
    who.className = "chat__who-label";
    who.textContent = (mine ? "You" : (msg.from || "Support")) + ", " + clock(msg.sent_at) + ": ";
    var body = document.createElement("span");
    body.className = "chat__text";
    body.textContent = msg.text;
    item.appendChild(who);
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function setStatus(message) { statusLine.textContent = message; }

  function clearErrors() {
    ["text", "name", "email"].forEach(function (name) {
      document.getElementById("chat-" + name + "-error").textContent = "";
      document.getElementById("chat-" + name).removeAttribute("aria-invalid");
    });
  }

  function showErrors(fields) {
    var fallback = [];
    Object.keys(fields || {}).forEach(function (key) {
      var name = key.replace(/^visitor\./, "");
      var slot = document.getElementById("chat-" + name + "-error");
      if (!slot) { fallback.push(fields[key]); return; }
      slot.textContent = fields[key];
      document.getElementById("chat-" + name).setAttribute("aria-invalid", "true");
      if (name !== "text") { document.getElementById("chat-who").open = true; }
    });
    setStatus(fallback.length ? fallback.join(" ") : "Please check the highlighted fields.");
  }

  function request(method, body, query) {
    var headers = {"Accept": "application/json"};
    var token = loadToken();
    if (token) { headers["X-Chat-Session"] = token; }
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(endpoint + (query || ""), {method: method, headers: headers,
                                            credentials: "same-origin", cache: "no-store",
                                            body: body ? JSON.stringify(body) : undefined})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return {status: response.status, data: data,
                  retryAfter: response.headers.get("Retry-After")};
        });
      });
  }

  function submit(event) {
    event.preventDefault();
    clearErrors();
    if (!text.value.trim()) {
      showErrors({text: "Write a message first."});
      text.focus();
      return;
    }
    send.disabled = true;
    setStatus("Sending…");
    var message = {text: text.value, name: document.getElementById("chat-name").value,
                   email: document.getElementById("chat-email").value};
    request("POST", message).then(function (result) {
      if (result.status === 202) {
        saveToken(result.data.session);
        addMessage({id: result.data.message_id, direction: "in", text: message.text,
                    sent_at: result.data.sent_at});
        text.value = "";
        setStatus("Sent.");
        schedule(POLL_MS);
      } else if (result.status === 400) {
        showErrors((result.data.error || {}).fields);
      } else if (result.status === 429 || result.status === 503) {
        setStatus("Too busy right now; please try again in " +
                  (result.retryAfter || "a few") + " seconds.");
      } else {
        setStatus("Your message could not be sent (" + result.status + ").");
      }
    }).catch(function () {
      setStatus("Could not send: check your connection and try again.");
    }).then(function () {
      send.disabled = false;
      text.focus();
    });
  }

  /* The next poll in ``delay`` ms, unless the page is hidden, has no conversation yet, or a
   * poll is in flight (it schedules the next one when it ends). */
  function schedule(delay) {
    window.clearTimeout(timer);
    timer = null;
    if (polling || document.hidden || !loadToken()) { return; }
    timer = window.setTimeout(poll, delay);
  }

  function backoff(retryAfter) {
    failures += 1;
    var wait = Math.min(MAX_BACKOFF_MS, POLL_MS * Math.pow(2, failures));
    var asked = parseInt(retryAfter, 10) * 1000;
    return asked > wait ? asked : wait;
  }

  function poll() {
    timer = null;
    polling = true;
    var query = cursor === null ? "" : "?since=" + encodeURIComponent(cursor);
    request("GET", null, query).then(function (result) {
      polling = false;
      if (result.status === 200) {
        failures = 0;
        (result.data.messages || []).forEach(addMessage);
        if (result.data.cursor) { cursor = result.data.cursor; }
        schedule(POLL_MS);
      } else if (result.status === 401) {
        forgetToken();  /* the session is no longer valid: the next message starts anew */
        cursor = null;
      } else {
        schedule(backoff(result.retryAfter));
      }
    }).catch(function () {
      polling = false;
      schedule(backoff(null));  /* offline: try again, less and less often */
    });
  }

  document.addEventListener("visibilitychange", function () {
    schedule(0);  /* visible again: catch up at once; hidden: schedule stops */
  });

  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : submit(event);
    }
  });
  form.addEventListener("submit", submit);
  schedule(0);
}());
