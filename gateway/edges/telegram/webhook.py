"""The Telegram webhook edge: ``POST /hooks/telegram/<workspace>/<bot>`` (stable path).

Telegram sends each update as JSON with the secret token given to setWebhook in
``X-Telegram-Bot-Api-Secret-Token``. The edge checks it in constant time (401), validates
cheaply (a JSON object with an integer ``update_id``, else 400), makes the raw update durable on
the ``telegram`` queue and answers 200 at once: Telegram only needs a 2xx and retries anything
else for up to a day, so a Redis outage answers 503 with ``Retry-After``. An update_id accepted
in the last day is answered 200 without a second enqueue (the mark is written in the enqueue's
transaction; the worker dedupes anyway).
``/start`` is answered by the worker (one path for webhook and polling), not in this response.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from channels.signature import secret_matches
from config.channels import secret
from gateway.edges import http
from gateway.edges.telegram import updates

bp = Blueprint("telegram_webhook", __name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHANNEL = updates.QUEUE


@bp.post("/hooks/telegram/<workspace>/<bot>")
def receive(workspace: str, bot: str):
    config = http.workspace_or_404(workspace)
    bot_config = config.channels.bot(bot)
    if bot_config is None:
        http.reject(404, "not_found", "no such bot in this workspace", CHANNEL)
    if not secret_matches(secret(bot_config.secret_env),
                               request.headers.get(SECRET_HEADER, "")):
        http.reject(401, "unauthorized", f"the {SECRET_HEADER} header is missing or wrong",
                    CHANNEL)
    raw = request.get_data(cache=False)
    update_id = updates.update_id_of(http.json_object(raw, CHANNEL))
    if update_id is None:
        http.reject(400, "not_an_update", "a Telegram update has an integer update_id",
                    CHANNEL, {"update_id": "required, an integer"})
    once = (updates.scope(workspace, bot), str(update_id), updates.SEEN_TTL_S)
    try:
        envelope = http.enqueue(CHANNEL, workspace, bot, raw,
                                {"bot": bot, "update_id": update_id}, once)
    except http.Replayed:
        return jsonify({"status": "duplicate", "update_id": update_id})
    return http.accepted(envelope, status=200)
