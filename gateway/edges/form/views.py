"""The web contact form edge: ``GET|POST /contact/<workspace>`` (stable) and its JSON endpoint.

- ``GET /contact/<ws>``: an accessible, embeddable HTML form (fields ``name, email, subject,
  message, attachments``) that needs no JavaScript. ``POST`` of the same form (multipart or
  urlencoded) re-renders it with per-field errors and the typed values (400), or redirects
  (303, post/redirect/get) to the receipt page ``/contact/<ws>/thanks?reference=...``.
- JSON: ``POST /contact/<ws>`` with ``Content-Type: application/json`` (or any POST preferring
  ``application/json`` in ``Accept``), and the alias ``POST /contact/<ws>/submit.json``, answer
  202 ``{"status": "accepted", "reference"}`` or a JSON error (400 with ``fields``, 403 origin
  not allowed, 404, 409, 413, 429, 503). CORS: ``Form.allowed_origins`` (``*`` for any);
  preflight ``OPTIONS`` on both paths.

No CSRF token: the form acts for nobody (no session, no cookie); a forged cross-site post can
do nothing a direct post could not; rate limits and the honeypot bound both (docs/channels/form.md).
"""
from __future__ import annotations

import re
import secrets

from flask import Blueprint, g, make_response, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.edges import http
from gateway.errors import ApiError, bad_request
from gateway.edges.form.flow import CHANNEL, Invalid, accept, body_limit, limit_ip
from gateway.edges.form.validate import (HONEYPOT, MAX_LENGTHS, SUBMISSION_ID, Submission, from_form, from_json, human_size)

bp = Blueprint("form", __name__, template_folder="templates", static_folder="static/contact",
               static_url_path="/contact/_static")
REFERENCE_RE = re.compile(r"^[0-9A-F]{12}$")
PREFLIGHT_MAX_AGE_S = 600
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'")  # no frame-ancestors: any site may embed the form
PAGES = {  # status -> (title, what the visitor should do)
    404: ("Page not found", "There is no contact form at this address."),
    409: ("Already sending", "Your message is being sent. Wait a moment, then reload the page."),
    413: ("Too much data", "The message and its attachments are too large. Remove some "
                           "attachments and try again."),
    429: ("Too many messages", "You have sent several messages in a short time. Please wait "
                               "a while before you send another one; we have the earlier ones."),
    503: ("Please try again", "We cannot take your message right now. Nothing was sent; please "
                              "try again in a minute."),
}


def form_settings(workspace: str):
    """The workspace's config and its form settings; 404 when unknown or the form is off."""
    config = http.workspace_or_404(workspace)
    if not config.channels.form.enabled:
        raise ApiError(404, "not_found", "this workspace has no contact form")
    return config, config.channels.form


# -- HTML ------------------------------------------------------------------------------------

@bp.get("/contact/<workspace>", provide_automatic_options=False)
def show(workspace: str):
    try:
        config, settings = form_settings(workspace)
    except ApiError as exc:
        return error_page(exc)
    return form_page(config, settings, Submission(submission_id=new_submission_id()), {}, 200)


@bp.post("/contact/<workspace>", provide_automatic_options=False)
def submit(workspace: str):
    if wants_json():
        return submit_json(workspace)
    sub = Submission()
    try:
        config, settings = form_settings(workspace)
        request.max_content_length = body_limit(settings, request.max_content_length)
        limit_ip(workspace, settings)
        sub, shape_errors = from_form(request.form, request.files)
        receipt = accept(workspace, settings, sub, shape_errors, "form")
    except Invalid as exc:
        if not sub.submission_id or SUBMISSION_ID in exc.errors:
            sub.submission_id = new_submission_id()
        return form_page(config, settings, sub, exc.errors, 400)
    except ApiError as exc:
        return error_page(exc)
    except RequestEntityTooLarge:
        return error_page(ApiError(413, "payload_too_large", "request body too large"))
    return redirect(url_for(".thanks", workspace=workspace, reference=receipt.reference), 303)


@bp.get("/contact/<workspace>/thanks")
def thanks(workspace: str):
    try:
        config, settings = form_settings(workspace)
    except ApiError as exc:
        return error_page(exc)
    reference = request.args.get("reference", "")
    if not REFERENCE_RE.fullmatch(reference):
        return error_page(ApiError(404, "not_found", "no such receipt"))
    return render_template("contact/receipt.html", config=config, settings=settings,
                           reference=reference, workspace=workspace)


def form_page(config, settings, sub: Submission, errors: dict[str, str], status: int):
    hints = {
        "attachments": f"Up to {settings.max_attachments} files, "
                       f"{human_size(settings.max_attachment_bytes)} each "
                       f"({', '.join(settings.allowed_types)}).",
        "message": f"At most {MAX_LENGTHS['message']:,} characters.",
    }
    general = {k: v for k, v in errors.items() if k not in MAX_LENGTHS and k != "attachments"}
    body = render_template("contact/form.html", config=config, settings=settings,
                           values=sub.values(), errors=errors, general_errors=general,
                           hints=hints, max_lengths=MAX_LENGTHS, honeypot=HONEYPOT,
                           submission_id_field=SUBMISSION_ID, submission_id=sub.submission_id,
                           action=url_for(".submit", workspace=config.slug))
    return body, status


def error_page(exc: ApiError):
    title, text = PAGES.get(exc.status, ("Something went wrong", exc.message))
    response = make_response(render_template("contact/message.html", title=title, text=text),
                             exc.status)
    response.headers.update(exc.headers)
    return response


def new_submission_id() -> str:
    return secrets.token_urlsafe(16)


# -- JSON ------------------------------------------------------------------------------------

def wants_json() -> bool:
    """JSON body, or an Accept header that prefers JSON to HTML (a script posting a form)."""
    accept_types = request.accept_mimetypes
    return request.mimetype == "application/json" or (
        accept_types["application/json"] > accept_types["text/html"])


@bp.post("/contact/<workspace>/submit.json", provide_automatic_options=False)
def submit_json(workspace: str):
    config, settings = form_settings(workspace)
    check_origin(settings)
    request.max_content_length = body_limit(settings, request.max_content_length)
    limit_ip(workspace, settings)
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        sub, shape_errors = from_form(request.form, request.files)
    else:
        sub, shape_errors = from_json(http.json_object(request.get_data(), CHANNEL))
    try:
        receipt = accept(workspace, settings, sub, shape_errors, "json")
    except Invalid as exc:
        raise bad_request(exc.errors) from None
    response = make_response({"status": "accepted", "reference": receipt.reference}, 202)
    return response


@bp.route("/contact/<workspace>", methods=["OPTIONS"])
@bp.route("/contact/<workspace>/submit.json", methods=["OPTIONS"])
def preflight(workspace: str):
    _, settings = form_settings(workspace)
    check_origin(settings)
    response = make_response("", 204)
    response.headers["Allow"] = "GET, POST, OPTIONS"
    if g.get("form_cors_origin"):
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
    return response


def check_origin(settings) -> None:
    """A browser's cross-site call must come from an allowed origin (403 otherwise)."""
    origin = request.headers.get("Origin")
    if not origin:
        return  # not a browser's cross-origin call (curl, a server): CORS does not apply
    if origin_allowed(origin, settings.allowed_origins, request.host_url):
        g.form_cors_origin = origin
        return
    http.reject(403, "origin_not_allowed",
                f"the origin {origin[:200]} may not use this form's JSON endpoint", CHANNEL)


def origin_allowed(origin: str, allowed: tuple[str, ...], host_url: str) -> bool:
    wanted = origin.strip().rstrip("/").lower()
    own = host_url.rstrip("/").lower()
    return wanted == own or any(a == "*" or a.strip().rstrip("/").lower() == wanted
                                for a in allowed)


@bp.after_request
def security_headers(response):
    """CORS headers for an allowed origin; a strict CSP for the pages (still embeddable)."""
    origin = g.get("form_cors_origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
