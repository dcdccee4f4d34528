"""A provider's form post, read from the raw request bytes with werkzeug's multipart decoder.

Fields are kept as raw bytes: SendGrid posts each field in the charset of the mail it came from
(and says which in its ``charsets`` field), so decoding is the converter's job, not the form
reader's. ``application/x-www-form-urlencoded`` bodies (Mailgun without attachments) are read
with ``urllib.parse`` the same way, bytes kept.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from channels.common import Unparseable

MAX_PARTS = 1000          # form parts per request; providers send tens (fields + attachments)
CHUNK_BYTES = 64 * 1024   # fed to the decoder at a time


@dataclass(frozen=True)
class Upload:
    """A file part of the form: an attachment as the provider posted it."""
    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class FormData:
    fields: dict[str, list[bytes]] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.fields

    def raw(self, name: str) -> bytes:
        """The first value of field ``name`` as bytes, b'' when absent."""
        values = self.fields.get(name)
        return values[0] if values else b""

    def text(self, name: str, charset: str = "utf-8") -> str:
        """The first value of ``name`` decoded with ``charset`` (undecodable bytes replaced)."""
        return decode(self.raw(name), charset)

    def json(self, name: str, kind: type = dict):
        """Field ``name`` parsed as JSON of type ``kind``; None when absent or not such JSON."""
        try:
            value = json.loads(self.raw(name).decode("utf-8", "replace"))
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            return None
        return value if isinstance(value, kind) else None

    def file(self, name: str) -> Upload | None:
        return next((f for f in self.files if f.name == name), None)


def decode(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:  # a charset Python does not know: UTF-8 is the best guess
        return data.decode("utf-8", "replace")


def read_form(raw: bytes, content_type: str) -> FormData:
    """The fields and files of a form post; ``Unparseable`` when it is not a readable form."""
    mimetype, options = parse_options_header(content_type or "")
    if mimetype == "multipart/form-data":
        return _multipart(raw, options.get("boundary", ""))
    if mimetype == "application/x-www-form-urlencoded":
        return _urlencoded(raw)
    raise Unparseable(f"not a form post (content type {mimetype or 'missing'!r})")


def _urlencoded(raw: bytes) -> FormData:
    form = FormData()
    # latin-1 maps every byte to one character and back: the field bytes survive untouched
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True,
                                 encoding="latin-1", max_num_fields=MAX_PARTS):
        form.fields.setdefault(name.encode("latin-1").decode("utf-8", "replace"),
                               []).append(value.encode("latin-1"))
    return form


def _multipart(raw: bytes, boundary: str) -> FormData:
    if not boundary:
        raise Unparseable("multipart form without a boundary")
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"), max_parts=MAX_PARTS)
    form, current, chunks = FormData(), None, []
    try:
        for start in [*range(0, len(raw), CHUNK_BYTES), None]:
            decoder.receive_data(None if start is None else raw[start:start + CHUNK_BYTES])
            event = decoder.next_event()
            while not isinstance(event, (NeedData, Epilogue)):
                if isinstance(event, (Field, File)):
                    current, chunks = event, []
                elif isinstance(event, Data):
                    chunks.append(event.data)
                    if not event.more_data:
                        _add(form, current, b"".join(chunks))
                event = decoder.next_event()
            if isinstance(event, Epilogue):
                return form
    except (ValueError, RequestEntityTooLarge) as exc:
        raise Unparseable(f"malformed multipart form: {exc}") from None
    raise Unparseable("multipart form ends before its closing boundary")


def _add(form: FormData, part: Field | File, data: bytes) -> None:
    if isinstance(part, File):
        form.files.append(Upload(part.name, part.filename or "",
                                 part.headers.get("content-type", ""), data))
    else:
        form.fields.setdefault(part.name, []).append(data)
