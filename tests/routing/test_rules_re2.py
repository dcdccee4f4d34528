"""Workspace regexes run on RE2: linear time on pathological patterns, unsupported constructs
refused at load with their path and a way out, and the same answers as Python's ``re`` (any
case) on Czech and other Unicode text."""
from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings, strategies as st

from routing.rules import TEXT_LIMIT, evaluate, load_rules
from routing.user_regex import user_regex
from tests.routing.rule_helpers import item, matches, problems, rule

GENEROUS_S = 2.0  # exponential backtracking takes years here, linear time milliseconds


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


# --- pathological patterns ----------------------------------------------------------------

def test_nested_quantifiers_on_100k_characters_finish_fast():
    pattern = user_regex(r"(a+)+$")
    found, took = timed(pattern.search, ("a" * 99_999 + "b").encode())
    assert found is None
    assert took < GENEROUS_S


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|aa)+$", r"(a*)*b", r"(\w+\s?)+$"])
def test_a_redos_rule_does_not_stall_evaluation(pattern):
    rules = load_rules([rule("redos", text=pattern)])
    text = "a" * (TEXT_LIMIT - 1) + "!"  # fails only at the last character: backtracking's worst
    outcome, took = timed(evaluate, rules, item(text=text))
    assert outcome.matched == []
    assert took < GENEROUS_S


def test_a_redos_subject_rule_on_100k_characters_sees_its_limit_only():
    rules = load_rules([rule("redos", subject=r"^(a+)+$", text=r"(x+x+)+y")])
    message = item(subject="a" * 99_999 + "b", text="x" * 99_999)
    outcome, took = timed(evaluate, rules, message)
    assert outcome.matched == []  # the text has no "y" in its first TEXT_LIMIT characters
    assert took < GENEROUS_S
    only_a = load_rules([rule("a", subject=r"^(a+)+$")])
    assert evaluate(only_a, message).matched == ["a"]  # $ at the 1,000-character limit, as before


# --- unsupported constructs are configuration errors --------------------------------------

@pytest.mark.parametrize("pattern, says", [
    (r"invoice(?!s)", "lookahead and lookbehind are not supported by RE2, the linear-time"),
    (r"(?<=re: )invoice", "lookahead and lookbehind are not supported by RE2"),
    (r"(?<!un)paid", "lookahead and lookbehind are not supported by RE2"),
    (r"(ab)\1", "backreferences are not supported by RE2, the linear-time"),
    (r"(?P<word>a)(?P=word)", "backreferences are not supported by RE2"),
    (r"a++b", "atomic groups and possessive repetition are not needed in RE2"),
    (r"(?>a+)b", "atomic groups and possessive repetition are not needed in RE2"),
    (r"invoice\Z", "RE2 writes the end of the text as \\z, not \\Z"),
    (r"\bžádost\b", "\\b and \\B only know ASCII letters in RE2"),
    (r"[^\W\d]", "\\W, \\D and \\S inside [^...] would be ASCII-only in RE2"),
    (r"\w{1000}", "the pattern exceeds RE2's 8 MiB program limit"),
    (r"(unclosed", "missing ): (unclosed"),
])
def test_an_unsupported_pattern_is_refused_at_load_with_its_path(pattern, says):
    error = "Value error, invalid regular expression"
    subject = problems([rule("ok"), rule("bad", subject=pattern)])
    assert subject[0].startswith(f"1.match.subject: {error}: {says}"), subject
    text = problems([rule("bad", text=pattern)])
    assert text[0].startswith(f"0.match.text: {error}: {says}"), text


@pytest.mark.parametrize("pattern, instead", [
    (r"invoice(?!s)", "'invoice(?:[^s]|$)'"),
    (r"(ab)\1", "'(ab)ab'"),
    (r"a++b", "'a+'"),
    (r"\bžádost\b", "(?:^|\\W) before and (?:\\W|$) after"),
])
def test_the_error_says_what_to_write_instead(pattern, instead):
    assert instead in problems([rule(text=pattern)])[0]


def test_the_suggested_rewrites_load_and_match():
    not_plural = rule(text=r"invoice(?:[^s]|$)")
    assert matches(not_plural, item(text="your invoice 42"))
    assert matches(not_plural, item(text="your invoice"))
    assert not matches(not_plural, item(text="your invoices"))
    whole_word = rule(text=r"(?:^|\W)žádost(?:\W|$)")
    assert matches(whole_word, item(text="Moje ŽÁDOST o vrácení"))
    assert not matches(whole_word, item(text="žádosti"))


def test_word_boundaries_still_work_on_ascii_patterns():
    spec = rule(subject=r"\binvoice\b")
    assert matches(spec, item(subject="Re: INVOICE #42"))
    assert not matches(spec, item(subject="invoices"))


# --- Unicode: case folding, classes, anchors ------------------------------------------------

@pytest.mark.parametrize("pattern, text", [
    ("faktura", "FAKTURA za březen"),
    ("FAKTURA", "posílám fakturu, ne, fakturA"),
    ("žádost", "ŽÁDOST O VRÁCENÍ"),
    ("ŽÁDOST", "moje žádost"),
    ("příliš žluťoučký kůň", "PŘÍLIŠ ŽLUŤOUČKÝ KŮŇ"),
    ("ΛΌΓΟΣ", "λόγος"),  # capital sigma against the final one
    ("straße", "STRAẞE"),
    ("привет", "ПРИВЕТ"),
])
def test_case_is_ignored_for_non_ascii_letters(pattern, text):
    assert matches(rule(text=pattern), item(text=text))
    assert matches(rule(subject=pattern), item(subject=text))


@pytest.mark.parametrize("pattern, text, expected", [
    (r"^\w+$", "žluťoučký", True),  # RE2's own \w would stop at "ž"
    (r"^\W", "ž", False),
    (r"not\s+working", "not\u00a0working", True),  # a no-break space from an HTML mail
    (r"\d", "\u0663", True),  # ARABIC-INDIC DIGIT THREE
    (r"[\w.]+@firma\.cz", "jiří.novák@firma.cz", True),
    (r"[^\s\d]+", " 42 ", False),
    (r"děkuji$", "Děkuji\n", True),  # Python's $ holds before a final newline
    (r"děkuji$", "Děkuji\n\nPS", False),
    (r"\$\d+", "cena $40", True),
    (r"a[\s\S]b", "a\nb", True),  # \S inside [...] becomes an alternative beside it
    (r"[\W\d]", "žž", False),
])
def test_classes_and_anchors_mean_what_they_mean_in_python(pattern, text, expected):
    assert bool(re.search(pattern, text, re.IGNORECASE)) is expected
    assert matches(rule(text=pattern), item(text=text)) is expected


CZECH = "aábcčdďeéěfghiíjklmnňoópqrřsštťuúůvwxyýzž" + "AÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ" + "09 .,!-_$\n\t\u00a0"
PATTERNS = [r"žádost|faktur[ay]", r"^\w+$", r"\d{2,}\s*kč", r"(?m)^dobrý den", r"[\w.]+@[\w.]+",
            r"\S+\s+\S+$", r"[^\w\s]", r"ř.{0,3}ž", r"(?s)a.b", r"\W\w{3}\W", r"\w$",
            r"(?m)\w$\n^\w", r"[\s\S]{3}", r"[\w-]+z", r"[a\S-]b"]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=CZECH, max_size=40), end=st.sampled_from(["", "\n", "\n\n", " "]),
       index=st.integers(0, len(PATTERNS) - 1))
def test_rules_agree_with_python_re_on_czech_text(text, end, index):
    pattern, text = PATTERNS[index], text + end
    expected = re.search(pattern, text, re.IGNORECASE) is not None
    assert matches(rule(text=pattern), item(text=text)) is expected, (pattern, text)


def test_a_lone_surrogate_in_the_text_is_no_error():
    assert matches(rule(text="faktura"), item(text="\ud800 faktura"))
    assert not matches(rule(text=r"\?"), item(text="\udcff"))  # not turned into a "?"
