"""Property tests: whatever a provider (or anyone with its credentials) posts, the edge answers
2xx or a clear 4xx, and the converters give an event or ``Unparseable``, never another error."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.common import Unparseable
from tests.inbound.convert import parse
from tests.inbound.fixtures import mailgun
from tests.inbound.posting import post_mailgun, post_postmark, post_sendgrid

MAILGUN_FIELDS = ["recipient", "sender", "from", "subject", "body-plain", "body-html",
                  "stripped-text", "message-headers", "Message-Id", "In-Reply-To", "References",
                  "attachment-count", "content-id-map", "body-mime", "To", "Date"]
SENDGRID_FIELDS = ["headers", "dkim", "to", "from", "cc", "text", "html", "subject",
                   "envelope", "charsets", "attachments", "attachment-info", "SPF",
                   "spam_score", "email"]
POSTMARK_FIELDS = ["From", "FromFull", "To", "ToFull", "Cc", "CcFull", "Subject", "MessageID",
                   "Date", "TextBody", "HtmlBody", "StrippedTextReply", "Headers", "Attachments",
                   "MailboxHash", "OriginalRecipient", "RawEmail", "ReplyTo"]
CHARSETS = ["utf-8", "iso-8859-1", "windows-1251", "iso-2022-jp", "x-bogus", "", "utf-16"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["Name", "Value", "Email", "Content", "ContentType", "ContentID",
                         "to", "from", "filename", "type", "content-id", "x"]), inner,
        max_size=4),
    max_leaves=12)
# Values that look like what providers send, mixed with junk.
field_values = st.one_of(
    st.binary(max_size=200), st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"support@demo.test", b"Alice <alice@customer.test>",
                     b'[["Message-Id", "<a@b>"], ["Subject", "hi"]]',
                     b'{"to": ["support@demo.test"], "from": "a@customer.test"}',
                     b"From: a@customer.test\r\nSubject: hi\r\n\r\nbody\r\n",
                     json.dumps({k: c for k, c in zip(["text", "subject", "html"], CHARSETS)})
                     .encode()]))
uploads = st.lists(st.tuples(
    st.sampled_from(["attachment-1", "attachment-2", "attachment1", "attachment2", "junk"]),
    st.tuples(st.text(max_size=30), st.binary(max_size=100),
              st.sampled_from(["application/pdf", "message/rfc822", "multipart/mixed", "",
                               "text/plain; charset=koi8-r", "bogus"]))), max_size=3)


def form_fields(names):
    return st.lists(st.tuples(st.sampled_from(names) | st.text(min_size=1, max_size=12),
                              field_values), max_size=12)


postmark_objects = st.dictionaries(st.sampled_from(POSTMARK_FIELDS) | st.text(max_size=8),
                                   json_values | st.sampled_from(
                                       ["a@customer.test", "From: a@x\n\nhi"]), max_size=12)
FUZZ = settings(max_examples=1500, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
EDGE_ANSWERS = {200, 400, 403, 406}
STATUSES = []


@FUZZ
@given(fields=form_fields(MAILGUN_FIELDS), files=uploads)
def test_mailgun_edge_answers_2xx_or_a_clear_4xx(client, fields, files):
    response = post_mailgun(client, fields, files)
    STATUSES.append(response.status_code)
    assert response.status_code in EDGE_ANSWERS, response.get_data()
    if response.status_code != 200:
        assert response.get_json()["error"]["code"]


@FUZZ
@given(fields=form_fields(SENDGRID_FIELDS), files=uploads)
def test_sendgrid_edge_answers_2xx_or_a_clear_4xx(client, fields, files):
    response = post_sendgrid(client, fields, files)
    assert response.status_code in EDGE_ANSWERS, response.get_data()
    if response.status_code != 200:
        assert response.get_json()["error"]["code"]


@FUZZ
@given(data=postmark_objects | json_values)
def test_postmark_edge_answers_2xx_or_a_clear_4xx(client, data):
    response = post_postmark(client, None, raw=json.dumps(data).encode())
    assert response.status_code in EDGE_ANSWERS, response.get_data()
    if response.status_code != 200:
        assert response.get_json()["error"]["code"]


def _event_or_unparseable(raw: bytes, format_: str, content_type: str) -> None:
    try:
        parsed = parse(raw, format_, content_type)
    except Unparseable:
        return
    json.dumps(parsed.event.to_dict())  # an event of plain, serializable values


@FUZZ
@given(fields=form_fields(MAILGUN_FIELDS + SENDGRID_FIELDS), files=uploads,
       format_=st.sampled_from(["mailgun", "mailgun-mime", "sendgrid", "sendgrid-raw"]))
def test_form_converters_give_an_event_or_unparseable(fields, files, format_):
    body, content_type = mailgun.encode(fields, files)
    _event_or_unparseable(body, format_, content_type)


@FUZZ
@given(data=postmark_objects)
def test_postmark_converter_gives_an_event_or_unparseable(data):
    _event_or_unparseable(json.dumps(data).encode(), "postmark", "application/json")


@FUZZ
@given(raw=st.binary(max_size=300), content_type=st.sampled_from(
    ["multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "",
     "multipart/form-data", "text/plain"]),
       format_=st.sampled_from(["mailgun", "sendgrid", "postmark", "sendgrid-raw"]))
def test_converters_on_raw_junk_give_an_event_or_unparseable(raw, content_type, format_):
    _event_or_unparseable(raw, format_, content_type)


def test_zz_probe():
    import collections
    print("STATUSES", collections.Counter(STATUSES))
