"""Reply trimming: quoted lines are dropped or kept, signatures are cut."""
from __future__ import annotations

import pytest

from channels.mail.quotes import extract_reply
from tests.channels.mailfactory import REPLY


# --- quotes ---------------------------------------------------------------------------------------


def test_trailing_quote_after_text_is_removed():
    assert extract_reply(f"{REPLY}\n\n> The old message.\n>\n> More.\n") == REPLY


def test_quote_followed_by_text_is_kept():
    text = "> This is a quote.\n\nAnd this is my answer."
    assert extract_reply(text) == text


def test_message_of_only_a_quote_is_kept():
    assert extract_reply("> Only a quote.") == "> Only a quote."


def test_bottom_posted_reply_drops_the_attribution_and_quote_above_it():
    text = "On Mon, Aug 19, 2013 at 2:36 AM, A <a@example.com> wrote:\n\n> Old.\n>\n\nMy answer."
    assert extract_reply(text) == "My answer."


def test_inline_reply_keeps_the_quote_and_drops_the_attribution():
    text = "Hello.\nOn Tue, 2011-03-01 at 18:02 +0530, A wrote:\n> Question?\n\nAnswer.\n"
    assert extract_reply(text) == "Hello.\n> Question?\n\nAnswer."


def test_only_quoted_history_under_an_attribution_is_empty():
    text = "> On Thu, Apr 30, 2020 at 10:07 AM, A <a@example.com> wrote:\n>\n>> Hello\n"
    assert extract_reply(text) == ""


def test_supercite_initials_are_a_quote():
    assert extract_reply(f"{REPLY}\n\nC> old line\nC>\n") == REPLY


# --- signatures -----------------------------------------------------------------------------------


def test_signature_delimiter_cuts():
    assert extract_reply(f"{REPLY}\n\n-- \nJohn Doe\nACME Corp\n+1 555 0100") == REPLY


def test_signature_delimiter_without_trailing_space_cuts():
    assert extract_reply(f"{REPLY}\n--\nJohn Doe") == REPLY


@pytest.mark.parametrize("signature", [
    "Sent from my iPhone", "Envoyé de mon iPhone", "Envoyé depuis mon iPhone",
    "Von meinem iPhone gesendet", "Von meinem Mobilgerät gesendet",
    "Diese Nachricht wurde von meinem Android-Mobiltelefon mit K-9 Mail gesendet.",
    "Sent from Outlook for Android", "Get Outlook for iOS", "Get Outlook for iOShttps://aka.ms/x",
    "Get [Outlook for Android](https://aka.ms/x)", "Sent from Outlook Mobile<https://example.com>",
    "Sent from my Samsung Galaxy smartphone.", "Sent from Yahoo Mail on Android",
    "Sent from [Mail](https://go.microsoft.com/fwlink/?LinkId=1) for Windows 10",
    "Sent with Airmail", "Sent via mobile", "(Sent from mobile device)", "<<sent by galaxy>>",
    "Sent from my TI-85", "Enviado desde mi iPhone", "Enviado do meu iPhone", "Inviato da iPhone",
    "Verzonden vanaf mijn iPhone", "Verzonden met BlackBerry Work", "Skickat från min iPhone",
    "Sendt fra min iPad", "Wysłane z iPhone'a", "Odesláno z iPhonu", "Отправлено с iPhone",
    "发自我的iPhone", "從我的 iPhone 傳送", "iPhoneから送信", "From My Iphone 6",
])
def test_mobile_signature_cuts(signature):
    text = f"{REPLY}\n\n{signature}\n\nOn Mon, Feb 1, 2016, A <a@example.com> wrote:\n> Old"
    assert extract_reply(text) == REPLY


@pytest.mark.parametrize("sentence", [
    "Sent from the warehouse yesterday, it never arrived.",
    "Sent with the courier.",
    "从我的角度来看，这个问题很严重。",
    "Von meinem Kollegen gesendet",
])
def test_sentence_that_resembles_a_signature_is_kept(sentence):
    text = f"{sentence}\nPlease check."
    assert extract_reply(text) == text


def test_signature_inside_a_quote_does_not_cut():
    text = "> Sent from my iPhone\n\nMy answer."
    assert extract_reply(text) == text
