"""The Telegram webhook edge: ``POST /hooks/telegram/<workspace>/<bot>`` (stable path).

Telegram sends each update as JSON with the secret token given to setWebhook in
``X-Telegram-Bot-Api-Secret-Token``. The edge checks it in constant time (401), validates
cheaply (a JSON object with an integer ``update_id``, else 400), makes the raw update durable on
the ``messenger`` queue and answers 200 at once: Telegram only needs a 2xx and retries anything
else for up to a day, so a Redis outage answers 503 with ``Retry-After``. An update_id accepted
in the last day is answered 200 without a second enqueue (the worker dedupes anyway).
``/start`` is answered by the worker (one path for webhook and polling), not in this response.
"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from config.channels import secret
from gateway import edge
from gateway.telegram import updates
from redis.exceptions import RedisError

bp = Blueprint("telegram_webhook", __name__)
log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHANNEL = updates.QUEUE


@bp.post("/hooks/telegram/<workspace>/<bot>")
def receive(workspace: str, bot: str):
    config = edge.workspace_or_404(workspace)
    bot_config = config.channels.bot(bot)
    if bot_config is None:
        edge.reject(404, "not_found", "no such bot in this workspace", CHANNEL)
    if not edge.secret_matches(secret(bot_config.secret_env),
                               request.headers.get(SECRET_HEADER, "")):
        edge.reject(401, "unauthorized", f"the {SECRET_HEADER} header is missing or wrong",
                    CHANNEL)
    raw = request.get_data(cache=False)
    update_id = updates.update_id_of(edge.json_object(raw, CHANNEL))
    if update_id is None:
        edge.reject(400, "not_an_update", "a Telegram update has an integer update_id",
                    CHANNEL, {"update_id": "required, an integer"})
    redis = edge.runtime().redis
    if _already_accepted(redis, workspace, bot, update_id):
        return jsonify({"status": "duplicate", "update_id": update_id})
    envelope = edge.enqueue(CHANNEL, workspace, bot, raw, {"bot": bot, "update_id": update_id})
    _remember(redis, workspace, bot, update_id)
    return edge.accepted(envelope, status=200)


def _already_accepted(redis, workspace: str, bot: str, update_id: int) -> bool:
    try:
        return updates.already_accepted(redis, workspace, bot, update_id)
    except RedisError:
        raise edge.Unavailable() from None


def _remember(redis, workspace: str, bot: str, update_id: int) -> None:
    """Mark the update as accepted, only now that it is durable (a failure here is harmless)."""
    try:
        edge.first_use(redis, updates.scope(workspace, bot), str(update_id), updates.SEEN_TTL_S)
    except edge.Unavailable:
        log.warning("update %s of %s/%s enqueued but not remembered", update_id, workspace, bot)
