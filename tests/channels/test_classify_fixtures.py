"""channels.mail.classify on vendor formats: one .eml per case in fixtures/automatic/.

The fixtures are written after the vendors' documented formats (Exchange/Office 365 and their
localized NDRs, GroupWise, Domino, gateways, Exim, Postfix, qmail, Sendmail, Gmail, Yahoo,
Mailman, out-of-office responders in many languages) and after the customer mail that must
never be mistaken for them. A new case is a new file plus one line in ``EXPECTED``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from channels.mail.classify import classify
from tests.channels.mailfactory import OWN, parse

FIXTURES = Path(__file__).parent / "fixtures" / "automatic"

# fixture name: (kind, bounced recipient, original Message-ID) - '' where there is none
EXPECTED = {
    # --- bounces that are not RFC 3464 reports ---
    "exchange-2003-undeliverable": ("bounce", "gone@example.com", "tg.42.abc@demo.test"),
    "exchange-unzustellbar-de": ("bounce", "weg@example.de", "tg.42.de@demo.test"),
    "exchange-non-remis-fr": ("bounce", "parti@exemple.fr", ""),
    "exchange-no-se-puede-entregar-es": ("bounce", "ausente@ejemplo.es", ""),
    "exchange-non-recapitabile-it": ("bounce", "partito@esempio.it", ""),
    "exchange-onbestelbaar-nl": ("bounce", "weg@voorbeeld.nl", ""),
    "exchange-nao-e-possivel-entregar-pt": ("bounce", "saiu@exemplo.com.br", ""),
    "office365-undeliverable": ("bounce", "gone@contoso.com", ""),
    "groupwise-message-status-undeliverable": ("bounce", "gone@gw.example.org",
                                               "tg.42.gw@demo.test"),
    "antivirus-delivery-failure-notification": ("bounce", "blocked@example.net",
                                                "tg.42.av@demo.test"),
    "mail-gateway-mail-could-not-be-delivered": ("bounce", "full@example.com",
                                                 "tg.42.gw2@demo.test"),
    "returned-mail-error-during-delivery": ("bounce", "nobody@example.org",
                                            "tg.42.ret@demo.test"),
    "exim-mail-delivery-failed": ("bounce", "gone@example.co.uk", "tg.42.exim@demo.test"),
    "postfix-undelivered-mail": ("bounce", "gone@example.net", ""),
    "qmail-failure-notice": ("bounce", "gone@example.info", "tg.42.qmail@demo.test"),
    "sendmail-returned-mail": ("bounce", "gone@example.edu", "tg.42.sendmail@demo.test"),
    "lotus-notes-delivery-failure": ("bounce", "gone@notes.example.com", ""),
    "gmail-address-not-found": ("bounce", "gone@gmail.com", ""),
    "gmail-adresse-nicht-gefunden-de": ("bounce", "weg@gmail.com", ""),
    "yahoo-failure-notice": ("bounce", "gone@yahoo.com", "tg.42.yahoo@demo.test"),
    # --- bounces through a mailing list: bounce wins over list ---
    "list-owner-forwarded-undeliverable": ("bounce", "gone@example.com", ""),
    "mailman-uncaught-bounce": ("bounce", "gone@example.net", ""),
    "list-rewritten-mailer-daemon": ("bounce", "gone@example.net", ""),
    "google-groups-relayed-undeliverable": ("bounce", "gone@example.com", ""),
    # --- out of office, with or without a colon, in many languages ---
    "outlook-automatic-reply": ("out_of_office", "", ""),
    "out-of-office-before-reply-prefix": ("out_of_office", "", ""),
    "out-of-office-whole-subject": ("out_of_office", "", ""),
    "abwesenheitsnotiz-de": ("out_of_office", "", ""),
    "abwesenheitsnotiz-without-colon-de": ("out_of_office", "", ""),
    "automatische-antwort-de": ("out_of_office", "", ""),
    "reponse-automatique-fr": ("out_of_office", "", ""),
    "absence-before-reply-prefix-fr": ("out_of_office", "", ""),
    "respuesta-automatica-es": ("out_of_office", "", ""),
    "fuera-de-la-oficina-es": ("out_of_office", "", ""),
    "risposta-automatica-it": ("out_of_office", "", ""),
    "fuori-sede-it": ("out_of_office", "", ""),
    "afwezig-nl": ("out_of_office", "", ""),
    "automatisch-antwoord-nl": ("out_of_office", "", ""),
    "resposta-automatica-pt": ("out_of_office", "", ""),
    "ausente-pt": ("out_of_office", "", ""),
    "autosvar-sv": ("out_of_office", "", ""),
    "automaattinen-vastaus-fi": ("out_of_office", "", ""),
    "odpowiedz-automatyczna-pl": ("out_of_office", "", ""),
    "zidong-huifu-zh": ("out_of_office", "", ""),
    "gmail-vacation-responder": ("out_of_office", "", ""),
    # --- other automatic replies ---
    "helpdesk-acknowledgement": ("auto_reply", "", ""),
    # --- customers writing about bounces and absence: they stay customers ---
    "customer-mail-could-not-be-delivered": ("normal", "", ""),
    "customer-out-of-office-next-week": ("normal", "", ""),
    "customer-forwards-bounce": ("normal", "", ""),
    "customer-attaches-bounce": ("normal", "", ""),
    "customer-order-not-delivered": ("normal", "", ""),
    "customer-absence-subject": ("normal", "", ""),
    "customer-list-post-about-bounces": ("list", "", ""),
}


def classified(name: str):
    return classify(parse((FIXTURES / f"{name}.eml").read_bytes()), OWN)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_classified_as_expected(name):
    found = classified(name)
    assert (found.kind, found.bounced_recipient, found.original_message_id) == \
        EXPECTED[name], found.reason


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e[0] == "bounce"))
def test_bounce_fixture_reason_names_what_was_seen(name):
    rule, _, seen = classified(name).reason.partition(": ")
    assert rule in ("delivery_report", "daemon_bounce", "relayed_bounce",
                    "forwarded_bounce") and seen


def test_every_fixture_file_has_an_expectation():
    assert sorted(p.stem for p in FIXTURES.glob("*.eml")) == sorted(EXPECTED)
