"""Request bodies of the REST API: one strict pydantic base, one way to turn its errors into 400s.

``ApiRequest`` forbids unknown fields and coerces nothing (``strict``: ``"5"`` is no integer,
``true`` no number). ``ApiRequest.parse(body)`` validates a body read by
``gateway.api.params.json_body`` and raises a 400 naming every bad field by its path
(``tags[2]``, ``attachments[0].filename``). A model may word a field's message itself
(``MESSAGES``: by field path with ``[]`` for any index, optionally ``path:error_type``, or by
error type) where the API's messages predate the model. Models whose endpoint has always
ignored unknown fields set ``IGNORED_UNKNOWN``: such fields are dropped before validation
except those in ``REFUSED`` (the document still says ``additionalProperties: false``: clients
should not send them).
The same models are the request schemas of the OpenAPI document (``gateway.api.spec``).
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from gateway.errors import ApiError, bad_request

MAX_FIELD_NAME = 100  # characters of an unknown field's name repeated in an error
MAX_TEXT = 100_000    # characters of a reply's or a note's text (html: four times that)
# Character classes shared by the request models' patterns (JSON Schema and pydantic alike).
# Whitespace as Python's str.strip() sees it (\s of JSON Schema lacks \x1c-\x1f and \x85).
SPACE = "\\s\\x1c-\\x1f\\x85"
NO_NUL = "^[^\\x00]*$"                          # PostgreSQL stores no NUL
ONE_LINE = "^[^\\x00-\\x1f\\x7f]*$"             # no control characters (CR, LF, NUL, ...)
NOT_BLANK = f"^[^\\x00]*[^\\x00{SPACE}][^\\x00]*$"  # some text besides whitespace, no NUL
ONE_LINE_NOT_BLANK = f"^[^\\x00-\\x1f\\x7f]*[^\\x00-\\x1f\\x7f{SPACE}][^\\x00-\\x1f\\x7f]*$"
_INDEX = re.compile(r"\[\d+\]")


class ApiRequest(BaseModel):
    """The base of every REST API request model."""
    model_config = ConfigDict(extra="forbid", strict=True)
    MESSAGES: ClassVar[dict[str, str]] = {}
    IGNORED_UNKNOWN: ClassVar[bool] = False
    REFUSED: ClassVar[frozenset[str]] = frozenset()  # unknown, yet refused when ignoring others

    @model_validator(mode="before")
    @classmethod
    def _drop_ignored(cls, data: Any) -> Any:
        if cls.IGNORED_UNKNOWN and isinstance(data, dict):
            known = {f.alias or name for name, f in cls.model_fields.items()}
            return {k: v for k, v in data.items() if k in known or k in cls.REFUSED}
        return data

    @classmethod
    def parse(cls, data: Any):
        """The validated model; a 400 naming every bad field otherwise."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise invalid(cls, exc) from None


def invalid(model: type[ApiRequest], exc: ValidationError) -> ApiError:
    return bad_request(problems(model, exc))


def problems(model: type[ApiRequest], exc: ValidationError) -> dict[str, str]:
    """Field path -> message of every error of ``exc``."""
    found: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path, kind = field_path(error["loc"]), error["type"]
        generic = _INDEX.sub("[]", path)
        message = (model.MESSAGES.get(f"{generic}:{kind}") or model.MESSAGES.get(generic)
                   or model.MESSAGES.get(kind) or error["msg"])
        if kind == "extra_forbidden" and kind in model.MESSAGES:
            path = path[:MAX_FIELD_NAME]
        found[path] = message
    return found


def field_path(loc: tuple) -> str:
    """``("tags", 2)`` -> ``tags[2]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text or "body"
