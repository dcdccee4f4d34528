"""Reply trimming: attribution lines, Outlook header blocks and banners start the quoted history."""
from __future__ import annotations

import pytest

from channels.mail.quotes import extract_reply
from tests.channels.mailfactory import REPLY


# --- attribution lines ("On <date>, <name> wrote:") --------------------------------------------


@pytest.mark.parametrize("attribution", [
    "On Mon, Feb 1, 2016 at 4:58 AM, Some One <some@example.com> wrote:",
    "On 28 Jan 2016, at 19:04, Some One wrote:",
    "Am 03.02.2016 um 15:35 schrieb Max Mustermann <max@example.com>:",
    "Max Mustermann <max@example.com> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:",
    "Le 4 janv. 2016 à 19:03, Neil <neil@example.com> a écrit :",
    "Le 2016-11-16 02:22, Neil a écrit\u00a0:",
    "El jueves, 21 de noviembre de 2013, Pablo escribió:",
    "Op 2 feb. 2015 om 05:28 heeft Sky <sky@example.com> het volgende geschreven:",
    "Il 26 marzo 2016 alle 13.16 Sam <sam@example.com> ha scritto:",
    "Em 2 de fevereiro de 2015 10:58, Ana <ana@example.com> escreveu:",
    "Den 5 juni 2017 kl. 12:22 skrev Erik <erik@example.com>:",
    "Dnia 14 lip 2015 o godz. 00:25 Michał <michal@example.com> napisał(a):",
    "Dne 4. 1. 2016 v 19:03 Jan <jan@example.com> napsal(a):",
    "понедельник, 6 октября 2014 г. пользователь lidel написал:",
    "30 серп. 2016 р. 20:45 \"Arpit\" <arpit@example.com> пише:",
    "2016年12月12日(月) 20:45 Taro <taro@example.com>:",
    "在 2016年12月12日，下午8:45，Erlend <erlend@example.com> 写道：",
    "2016-10-24 15:36 GMT+02:00 Foo Bar <foo@example.com>:",
    "---- On Tue, 22 Dec 2015 14:17:36 +0530 Sam <sam@example.com> wrote ----",
])
def test_attribution_line_in_any_language_cuts_the_history(attribution):
    text = f"{REPLY}\n\n{attribution}\n> The old message.\n> More of it."
    assert extract_reply(text) == REPLY


@pytest.mark.parametrize("wrapped", [
    "On Thu, Jun 20, 2013 at 4:18 PM, Matt via Support <\nsupport@example.com> wrote:",
    "Le 4 janv. 2016 19:03, \"Neil Lalonde\"\n<neil@example.com>\na écrit :",
    "Op 16 aug. 2014 05:13 schreef \"Jeff\" <jeff@example.com> het\nvolgende geschreven:",
    "On Thu, 31 Mar 2016 at 11:16 Some One\n\n<\nmailto:Some One <some@example.com>\n> wrote:",
])
def test_attribution_wrapped_over_several_lines_is_cut_whole(wrapped):
    text = f"{REPLY}\n\n{wrapped}\n\nThe old message, not quoted.\n"
    assert extract_reply(text) == REPLY


def test_attribution_without_quote_below_cuts_everything_after_it():
    text = (f"{REPLY}\n\nOn Mon, Feb 1, 2016 at 4:58 AM -0800, Some One <a@example.com> wrote:\n\n"
            "The previous message, not quoted.\n\n"
            "On Sun, Jan 31, 2016, B <b@example.com> wrote:\nOlder.")
    assert extract_reply(text) == REPLY


def test_gmail_date_first_attribution_without_colon_cuts():
    assert extract_reply(f"{REPLY}\n\n2016-03-03 17:21 GMT+01:00 Some One\n\nOld") == REPLY


def test_quoted_attribution_cuts_the_history():
    text = f"{REPLY}\n\n> On Thu, Apr 30, 2020 at 10:07 AM, A <a@example.com> wrote:\n>\n>> Old."
    assert extract_reply(text) == REPLY


def test_prose_ending_in_wrote_colon_is_not_an_attribution():
    text = "My colleague wrote:\nthe printer is broken again.\n\nTicket 123 wrote:\nsame here"
    assert extract_reply(text) == text


def test_text_line_above_a_wrapped_attribution_is_kept():
    text = "Le problème persiste.\nLe 4 janv. 2016 19:03, \"Neil\"\n<neil@example.com>\na écrit :\n"
    assert extract_reply(text) == "Le problème persiste."


def test_two_text_lines_are_not_glued_into_an_attribution():
    text = "On Monday 5 May, I tested it.\nThen John wrote:\nit works for him"
    assert extract_reply(text) == text


# --- Outlook header blocks and banners -----------------------------------------------------------


def test_outlook_original_message_banner_cuts():
    text = f"{REPLY}\n\n-----Original Message-----\nFrom: A\nSent: Monday\nTo: B\nSubject: C\n\nOld"
    assert extract_reply(text) == REPLY


@pytest.mark.parametrize("banner", [
    "-----Ursprüngliche Nachricht-----", "-----Mensaje original-----",
    "-----Message d'origine-----", "*-------- Original Message --------*",
    "---------- Forwarded message ---------", "Begin forwarded message:",
])
def test_localized_banner_cuts(banner):
    assert extract_reply(f"{REPLY}\n\n{banner}\n\nOld message") == REPLY


@pytest.mark.parametrize("block", [
    "From: Support <support@example.com>\nSent: Thursday, 28 January 2016 8:16 p.m.\n"
    "To: Someone\nSubject: (no subject)",
    "Von: Support <support@example.com>\nGesendet: Donnerstag, 11. Februar 2016 11:23\n"
    "An: Kunde <kunde@example.com>\nBetreff: Ihre Anfrage",
    "De : Support <support@example.com>\nEnvoyé : jeudi 11 février 2016 11:23\n"
    "À : Client <client@example.com>\nObjet : Votre demande",
    "Från: Support [mailto:support@example.com]\nSkickat: den 5 juni 2017 12:22\n"
    "Till: kund@example.com\nÄmne: Bilder",
    "Da: Supporto\nData: giovedì, 8 ottobre 2015 15:26\nA: Cliente\nOggetto: Richiesta",
    "*From:* Outlook user\n*Sent:* 2016-01-27\n*To:* info@example.com\n*Subject:* Hello",
])
def test_header_block_in_any_language_cuts(block):
    assert extract_reply(f"{REPLY}\n\n{block}\n\nThe old message.") == REPLY


def test_single_from_line_is_not_a_header_block():
    text = "Q: why?\nA: because\nFrom: me, with love"
    assert extract_reply(text) == text


def test_underscore_separator_cuts_outlook_history():
    text = f"{REPLY}\n________________________________\nFrom: A\nSent: B\nTo: C\nSubject: D\n\nOld"
    assert extract_reply(text) == REPLY


def test_underscore_separator_cuts_a_footer():
    assert extract_reply(f"{REPLY}\n\n_______________________\nAnd here's my signature.") == REPLY


def test_forward_with_a_comment_keeps_only_the_comment():
    text = "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: A <a@example.com>\n" \
           "Date: Tue, Jan 01, 2019 at 12:00 PM\nSubject: Order\nTo: <b@example.com>\n\nOld body"
    assert extract_reply(text) == "FYI, see below."


def test_forward_without_a_comment_keeps_the_forwarded_body():
    text = "---------- Forwarded message ----------\nFrom: A <a@example.com>\n" \
           "Date: Thu, Jan 28, 2016 at 4:00 PM\nSubject: A subject that\nspans over 2 lines\n" \
           "To: b@example.com\n\n\nThe forwarded body."
    assert extract_reply(text) == "The forwarded body."
