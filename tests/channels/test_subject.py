"""Subject normalization across languages and the stable ticket token."""
from __future__ import annotations

import pytest

from channels.mail.subject import find_ticket_number, normalize, ticket_token


@pytest.mark.parametrize("prefix", [
    "Re:", "RE:", "Fwd:", "Fw:", "AW:", "WG:", "SV:", "VS:", "TR:", "RV:", "Odp:", "PD:", "ENC:",
    "R:", "Antw:", "Doorst:", "回复:", "回覆:", "答复:", "转发:", "轉寄:", "Réf:", "Ynt:", "Vá:", "Ha:",
    "Σχετ:", "Απ:", "Ответ:",
])
def test_normalize_strips_each_known_prefix(prefix):
    assert normalize(f"{prefix} Printer broken") == "Printer broken"


def test_normalize_strips_stacked_prefixes():
    assert normalize("RE: AW: Fwd: Printer broken") == "Printer broken"


def test_normalize_strips_prefixes_without_spaces():
    assert normalize("Re:Fwd:Printer broken") == "Printer broken"


@pytest.mark.parametrize("subject", ["Re[2]: x", "Re(3): x", "Re^2: x", "RE [2]: x"])
def test_normalize_strips_reply_counters(subject):
    assert normalize(subject) == "x"


def test_normalize_strips_full_width_colon():
    assert normalize("回复：订单问题") == "订单问题"


def test_normalize_strips_space_before_colon():
    assert normalize("RE : TR : Facture") == "Facture"


def test_normalize_unwraps_bracketed_forward():
    assert normalize("[Fwd: Re: Printer broken]") == "Printer broken"


def test_normalize_keeps_words_that_merely_start_like_a_prefix():
    assert normalize("Recall: Reorder paper") == "Recall: Reorder paper"


def test_normalize_keeps_a_prefix_without_colon():
    assert normalize("Re order status") == "Re order status"


def test_normalize_collapses_whitespace():
    assert normalize("  Re:   too    many\tspaces ") == "too many spaces"


def test_normalize_keeps_the_ticket_token():
    assert normalize("Re: [#12] Printer broken") == "[#12] Printer broken"


def test_normalize_of_nothing_is_empty():
    assert normalize("") == "" and normalize(None) == ""


def test_find_ticket_number_reads_the_token():
    assert find_ticket_number("Re: [#42] Printer broken") == 42


def test_find_ticket_number_with_workspace_prefix():
    assert find_ticket_number("AW: [ACME#12] Drucker", prefix="ACME") == 12


def test_find_ticket_number_prefix_is_case_insensitive():
    assert find_ticket_number("[acme#12] x", prefix="ACME") == 12


def test_find_ticket_number_ignores_other_prefixes():
    assert find_ticket_number("[OTHER#12] x") is None


def test_find_ticket_number_requires_the_configured_prefix():
    assert find_ticket_number("[#12] x", prefix="ACME") is None


def test_find_ticket_number_ignores_plain_numbers():
    assert find_ticket_number("Order #12 and [12]") is None


def test_find_ticket_number_ignores_absurdly_long_numbers():
    assert find_ticket_number("[#" + "9" * 40 + "]") is None


def test_ticket_token_round_trips():
    assert find_ticket_number(f"Re: {ticket_token(7, 'ACME')} x", prefix="ACME") == 7


def test_ticket_token_without_prefix():
    assert ticket_token(12) == "[#12]"
