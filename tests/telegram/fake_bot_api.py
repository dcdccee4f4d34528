"""A local fake of the Telegram Bot API, following its documented JSON, for offline tests.

A werkzeug server in a thread answers ``/bot<token>/<method>`` (getMe, setWebhook,
getWebhookInfo, deleteWebhook, getUpdates with offset confirmation and long polling,
sendMessage, getFile) and serves file downloads at ``/file/bot<token>/<file_path>``. Parameters
come form-encoded (complex values as JSON, as python-telegram-bot sends them) or as a JSON body.
Tests inspect ``calls``, ``sent`` and ``updates`` and can queue HTTP failures of a method
(or ``*``: any) in ``failures``.
"""
from __future__ import annotations

import json
import threading

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

MAX_LONG_POLL_S = 2.0  # the fake never holds a getUpdates longer than this


class FakeBotApi:
    def __init__(self, token: str, username: str = "acme_support_bot", bot_id: int = 7000001):
        self.token, self.username, self.bot_id = token, username, bot_id
        self.updates: list[dict] = []            # not yet confirmed by an offset
        self.calls: list[tuple[str, dict]] = []  # (method, params) of every API call
        self.sent: list[dict] = []               # sendMessage parameters
        self.files: dict[str, tuple[str, bytes]] = {}   # file_id -> (file_path, content)
        self.too_big: set[str] = set()           # file ids getFile refuses as too big
        self.gone_paths: set[str] = set()        # file paths whose download answers 404
        self.failures: list[tuple[str, int, str]] = []  # (method, status, description)
        self.webhook: dict = {"url": "", "has_custom_certificate": False,
                              "pending_update_count": 0}
        self.condition = threading.Condition()
        self.server = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FakeBotApi":
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        with self.condition:
            self.condition.notify_all()
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/file/bot"

    # -- test helpers ------------------------------------------------------------------------
    def add_update(self, update: dict) -> None:
        with self.condition:
            self.updates.append(update)
            self.condition.notify_all()

    def add_file(self, file_id: str, content: bytes, file_path: str = "") -> None:
        self.files[file_id] = (file_path or f"photos/{file_id}.jpg", content)

    def called(self, method: str) -> list[dict]:
        return [params for name, params in self.calls if name == method]

    # -- the API -----------------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        request = Request(environ)
        parts = request.path.split("/")
        if len(parts) >= 4 and parts[1] == "file" and parts[2] == f"bot{self.token}":
            response = self.download("/".join(parts[3:]))
        elif len(parts) == 3 and parts[1] == f"bot{self.token}":
            response = self.api(parts[2].lower(), _params(request))
        else:
            response = _error(404, "Not Found")
        return response(environ, start_response)

    def api(self, method: str, params: dict) -> Response:
        name = METHOD_NAMES.get(method, method)
        self.calls.append((name, params))
        failure = next((f for f in self.failures if f[0] in (name, "*")), None)
        if failure is not None:
            self.failures.remove(failure)
            _, status, description = failure
            extra = {"parameters": {"retry_after": 1}} if status == 429 else {}
            return _error(status, description, **extra)
        handler = getattr(self, "do_" + method, None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return handler(params)

    def do_getme(self, params) -> Response:
        return _ok({"id": self.bot_id, "is_bot": True, "first_name": "Acme Support",
                    "username": self.username, "can_join_groups": True,
                    "can_read_all_group_messages": False, "supports_inline_queries": False})

    def do_setwebhook(self, params) -> Response:
        url = params.get("url", "")
        if url and not url.startswith("https://"):
            return _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for "
                               "webhook")
        self.webhook = {"url": url, "has_custom_certificate": False, "pending_update_count": 0,
                        "max_connections": int(params.get("max_connections", 40))}
        if "allowed_updates" in params:
            self.webhook["allowed_updates"] = params["allowed_updates"]
        self.webhook_secret = params.get("secret_token", "")
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return _ok(True, description="Webhook was set")

    def do_deletewebhook(self, params) -> Response:
        self.webhook = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return _ok(True, description="Webhook was deleted")

    def do_getwebhookinfo(self, params) -> Response:
        return _ok({**self.webhook, "pending_update_count": len(self.updates)})

    def do_getupdates(self, params) -> Response:
        if self.webhook.get("url"):
            return _error(409, "Conflict: can't use getUpdates method while webhook is "
                               "active; use deleteWebhook to delete the webhook first")
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        timeout = min(float(params.get("timeout", 0)), MAX_LONG_POLL_S)
        with self.condition:
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates and timeout > 0:
                self.condition.wait(timeout)
            return _ok(list(self.updates[:limit]))

    def do_sendmessage(self, params) -> Response:
        self.sent.append(params)
        chat_id = int(params["chat_id"])
        return _ok({"message_id": 9000 + len(self.sent), "date": 1700000000,
                    "chat": {"id": chat_id, "type": "private"},
                    "from": {"id": self.bot_id, "is_bot": True, "first_name": "Acme Support"},
                    "text": params.get("text", "")})

    def do_getfile(self, params) -> Response:
        file_id = params.get("file_id", "")
        if file_id in self.too_big:
            return _error(400, "Bad Request: file is too big")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return _ok({"file_id": file_id, "file_unique_id": "u" + file_id,
                    "file_size": len(content), "file_path": path})

    def download(self, path: str) -> Response:
        self.calls.append(("download", {"path": path}))
        for file_path, content in self.files.values():
            if file_path == path and path not in self.gone_paths:
                return Response(content, content_type="application/octet-stream")
        return Response("Not Found", status=404)


METHOD_NAMES = {name.lower(): name for name in (
    "getMe", "setWebhook", "deleteWebhook", "getWebhookInfo", "getUpdates", "sendMessage",
    "getFile")}


def _params(request: Request) -> dict:
    if request.is_json:
        return request.get_json(silent=True) or {}
    params = {}
    for key, value in request.values.items():
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _ok(result, **extra) -> Response:
    return Response(json.dumps({"ok": True, "result": result, **extra}),
                    content_type="application/json")


def _error(status: int, description: str, **extra) -> Response:
    body = {"ok": False, "error_code": status, "description": description, **extra}
    return Response(json.dumps(body), status=status, content_type="application/json")
