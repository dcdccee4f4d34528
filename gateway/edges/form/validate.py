"""Server-side validation of a contact form submission, the same for the HTML form and JSON.

``from_form`` (multipart or urlencoded fields and uploads) and ``from_json`` (a decoded JSON
object) read what the visitor sent into a ``Submission`` plus the errors of its shape (a JSON
field of the wrong type, undecodable base64); ``check`` adds the errors of its content (required
fields, email syntax, lengths, attachment count, size and real type). Errors map a field name
(``name``, ``email``, ``subject``, ``message``, ``attachments``, ...) to one message a person
can act on. Text is cleaned on the way in: line endings unified, control characters and lone
surrogates removed (PostgreSQL stores no NUL; UTF-8 has no surrogates).
"""
from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field

from config.channels import Form
from gateway.edges.form.files import real_type, type_allowed

FIELDS = ("name", "email", "subject", "message")
HONEYPOT = "website"          # hidden from people; bots fill it
SUBMISSION_ID = "submission_id"  # hidden, one per rendered form: a double submit is one message
JSON_KEYS = FIELDS + ("attachments", HONEYPOT, SUBMISSION_ID)
MAX_LENGTHS = {"name": 200, "email": 254, "subject": 200, "message": 20_000}
REQUIRED = ("name", "email", "message")
SUBMISSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_LOCAL = re.compile(r"^[^\s@<>()\[\]\\,;:\"]{1,64}$")
_LABEL = re.compile(r"^[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?$")  # letters/digits, inner '-' 
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


@dataclass
class Upload:
    filename: str
    claimed_type: str
    data: bytes
    content_type: str = ""  # the real type, set by ``check``


@dataclass
class Submission:
    name: str = ""
    email: str = ""
    subject: str = ""
    message: str = ""
    honeypot: str = ""
    submission_id: str = ""
    attachments: list[Upload] = field(default_factory=list)

    def values(self) -> dict[str, str]:
        """What the visitor typed, to show again next to the errors."""
        return {name: getattr(self, name) for name in FIELDS}


def clean_line(value: str) -> str:
    """One line of text: valid UTF-8, no control characters, whitespace collapsed."""
    return _SPACES.sub(" ", clean_text(value)).strip()


def clean_text(value: str) -> str:
    text = value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def email_problem(address: str) -> str | None:
    """Why ``address`` is not a plausible email address (None when it is)."""
    local, at, domain = address.rpartition("@")
    if not at or not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") \
            or ".." in local:
        return "Enter an email address like name@example.com."
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) \
            or not unicodedata.normalize("NFC", labels[-1]).isalpha() or len(labels[-1]) < 2:
        return "Enter an email address like name@example.com."
    return None


def from_form(form, files) -> tuple[Submission, dict[str, str]]:
    """A submission from werkzeug's ``request.form`` and ``request.files``."""
    sub = Submission(**{name: clean_line(form.get(name, "")) for name in FIELDS[:3]})
    sub.message = clean_text(form.get("message", "")).strip()
    sub.honeypot = form.get(HONEYPOT, "")
    sub.submission_id = form.get(SUBMISSION_ID, "").strip()
    for storage in files.getlist("attachments"):
        data = storage.read()
        if not data and not storage.filename:
            continue  # the browser's empty part for "no file chosen"
        sub.attachments.append(Upload(storage.filename or "", storage.mimetype or "", data))
    return sub, {}


def from_json(data: dict) -> tuple[Submission, dict[str, str]]:
    """A submission from a JSON object; wrong types are errors of their field."""
    errors = {key: "Unknown field." for key in data if key not in JSON_KEYS}
    sub = Submission()
    for name in FIELDS + (HONEYPOT, SUBMISSION_ID):
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = "Must be a string."
            continue
        cleaned = clean_text(value).strip() if name == "message" else clean_line(value)
        setattr(sub, "honeypot" if name == HONEYPOT else name, cleaned)
    attachments = data.get("attachments") or []
    if not isinstance(attachments, list):
        errors["attachments"] = "Must be a list of {filename, content_type, data} objects."
        return sub, errors
    problems = []
    for number, item in enumerate(attachments, 1):
        upload, problem = _json_upload(item, number)
        if problem:
            problems.append(problem)
        else:
            sub.attachments.append(upload)
    if problems:
        errors["attachments"] = " ".join(problems)
    return sub, errors


def _json_upload(item, number: int) -> tuple[Upload | None, str | None]:
    if not isinstance(item, dict) or not isinstance(item.get("data"), str):
        return None, f"File {number}: must be an object with base64 'data'."
    filename, claimed = item.get("filename", ""), item.get("content_type", "")
    if not isinstance(filename, str) or not isinstance(claimed, str):
        return None, f"File {number}: 'filename' and 'content_type' must be strings."
    try:
        data = base64.b64decode(item["data"], validate=True)
    except (binascii.Error, ValueError):
        return None, f"File {number}: 'data' is not valid base64."
    return Upload(filename, claimed, data), None


def check(sub: Submission, settings: Form) -> dict[str, str]:
    """The content errors of ``sub``; sets each attachment's real type and safe filename."""
    errors: dict[str, str] = {}
    sub.email = sub.email.lower()
    for name in FIELDS:
        value = getattr(sub, name)
        if not value and name in REQUIRED:
            errors[name] = f"Enter your {name}." if name != "message" else "Enter a message."
        elif len(value) > MAX_LENGTHS[name]:
            errors[name] = f"Use at most {MAX_LENGTHS[name]:,} characters (now {len(value):,})."
    if "email" not in errors and sub.email:
        problem = email_problem(sub.email)
        if problem:
            errors["email"] = problem
    if sub.submission_id and not SUBMISSION_ID_RE.fullmatch(sub.submission_id):
        errors[SUBMISSION_ID] = "Invalid submission id: reload the form."
    problem = attachments_problem(sub.attachments, settings)
    if problem:
        errors["attachments"] = problem
    return errors


def attachments_problem(uploads: list[Upload], settings: Form) -> str | None:
    if len(uploads) > settings.max_attachments:
        return f"Attach at most {settings.max_attachments} files (you chose {len(uploads)})."
    problems = []
    for number, upload in enumerate(uploads, 1):
        upload.filename = safe_filename(upload.filename, number)
        upload.content_type = real_type(upload.data, upload.claimed_type)
        if not upload.data:
            problems.append(f"{upload.filename} is empty.")
        elif len(upload.data) > settings.max_attachment_bytes:
            problems.append(f"{upload.filename} is larger than "
                            f"{human_size(settings.max_attachment_bytes)}.")
        elif not type_allowed(upload.content_type, settings.allowed_types):
            problems.append(f"{upload.filename} is a file of type {upload.content_type}, "
                            f"which is not accepted ({', '.join(settings.allowed_types)}).")
    return " ".join(problems) or None


def safe_filename(filename: str, number: int) -> str:
    """The last path component, printable, at most 200 characters; a default when empty."""
    name = clean_line(filename.replace("\\", "/").rsplit("/", 1)[-1]).strip(". ")
    return name[-200:] or f"attachment-{number}"


def human_size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.3g} {unit}"
        size /= 1024
    return f"{size} bytes"
