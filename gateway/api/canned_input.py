"""The request side of canned responses: the body of ``POST /canned`` and ``PUT /canned/<id>``,
the list's query, and the check of a template field (``tickets.canned``) as a pydantic type
whose 400 names the unknown placeholders.

The OpenAPI document shows each template field's whole language as one ``pattern``
(``tickets.canned.PATTERN``, plus "not blank" for ``text``); the validator below checks the
same rules with messages of its own, so the document and the validation agree.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic_core import PydanticCustomError

from gateway.api import params as wire
from gateway.api.params import text_query
from gateway.api.patch import MAX_TAGS, Tag
from gateway.api.requests import ONE_LINE_NOT_BLANK, SPACE, ApiRequest
from tickets import canned

MAX_NAME = 200                 # characters of a name (CannedResponse.name)
MAX_TEXT = 100_000             # characters of the text, as a reply's
MAX_HTML = MAX_TEXT * 4        # characters of the html, as a reply's
# A template with something besides whitespace: tokens, one of them no space, tokens.
_TOKEN = canned.PATTERN[4:-3]  # the group inside ^(?:...)*$
_SOLID = _TOKEN.replace("[^{}\\x00]", f"[^{{}}\\x00{SPACE}]", 1)
TEMPLATE_NOT_BLANK = f"^(?:{_TOKEN})*(?:{_SOLID})(?:{_TOKEN})*$"


def _template(blank_ok: bool):
    def check(value: str) -> str:
        if "\x00" in value:
            raise PydanticCustomError("nul", "must not contain NUL")
        if not blank_ok and not value.strip():
            raise PydanticCustomError("blank", "required: a non-empty template")
        try:
            canned.check(value)
        except canned.TemplateError as exc:
            raise PydanticCustomError("template", "{problem}", {"problem": str(exc)}) from None
        return value
    return AfterValidator(check)


Text = Annotated[str, Field(max_length=MAX_TEXT, json_schema_extra={
    "pattern": TEMPLATE_NOT_BLANK}, description=f"the reply's text; {canned.RULE}"),
    _template(blank_ok=False)]
Html = Annotated[str, Field(max_length=MAX_HTML, json_schema_extra={
    "pattern": canned.PATTERN}, description="optional HTML, sanitized as a reply's; the same "
    "placeholders, their values escaped"), _template(blank_ok=True)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=MAX_NAME, pattern=ONE_LINE_NOT_BLANK)]


class CannedIn(ApiRequest):
    """The body of a create or a replace (every field; left out: its default)."""
    MESSAGES = {"name": f"required: 1-{MAX_NAME} characters on one line, unique in the workspace",
                "text:string_too_long": f"at most {MAX_TEXT} characters",
                "html:string_too_long": f"at most {MAX_HTML} characters",
                "tags": f"a list of at most {MAX_TAGS} tags"}
    name: Name = Field(description="unique in the workspace (409 otherwise), exactly as given "
                                   "once trimmed")
    text: Text
    html: Html = ""
    tags: list[Tag] = Field([], max_length=MAX_TAGS)


class CannedQuery(wire.PageQuery):
    q: str = text_query("case-insensitive substring of the name")
    tag: str = text_query("only canned responses having this tag (exact)")


class CannedId(BaseModel):
    id: int = Field(ge=1, description="canned response id")

