"""The channels ticketgate takes input from: one id per channel, the same everywhere.

A channel's id is its queue's name (``python -m workers.run <id>``, the Procfile's
``worker_<id>``), the ``channel`` of its envelopes, tickets and events, the ``channel`` label of
its metrics, the API's ``?channel=`` filter and the second part of its webhook URL where it has
one (``/hooks/telegram/...``). Edges, workers, metrics and the API read this table.

``former_names`` are what a channel was called before: the Telegram queue was ``messenger``
until December 2026. They stay accepted where a user or old data may still say them (the API
filter, ``python -m workers.run messenger``, envelopes and quarantine entries written before the
rename); jobs left on a former queue are moved onto the channel's queue by
``queues.former_queues``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    id: str                             # ticket/event/envelope `channel`, queue, metric label
    former_names: tuple[str, ...] = ()  # earlier names of this channel's queue, still accepted

    @property
    def queue(self) -> str:
        """The RQ queue its edges fill and its worker drains: the channel id itself."""
        return self.id


EMAIL, FORM, CHAT = Channel("email"), Channel("form"), Channel("chat")
TELEGRAM = Channel("telegram", former_names=("messenger",))
CHANNELS = (EMAIL, FORM, CHAT, TELEGRAM)
CHANNEL_IDS = tuple(channel.id for channel in CHANNELS)
CHANNEL_QUEUES = tuple(channel.queue for channel in CHANNELS)
FORMER_NAMES = {name: channel.id for channel in CHANNELS for name in channel.former_names}


def channel_id(name: str) -> str:
    """The id of the channel ``name`` stands for (an id, or a former name); other names as given."""
    return FORMER_NAMES.get(name, name) if isinstance(name, str) else name


def former_queues(queue: str) -> tuple[str, ...]:
    """The queues that ``queue`` was called before (empty for any queue but a renamed channel's)."""
    return tuple(name for name, current in FORMER_NAMES.items() if current == queue)


def current_envelope(envelope: dict) -> dict:
    """``envelope`` with its channel's id (an envelope queued before the rename says
    ``messenger``); the same dict when it already has it."""
    channel = envelope.get("channel")
    if not isinstance(channel, str) or channel_id(channel) == channel:
        return envelope
    return {**envelope, "channel": channel_id(channel)}
