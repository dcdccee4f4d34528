"""Canned response templates (tickets.canned): four placeholders, escapes, no code execution."""
import re

import pytest

from tickets import canned

VALUES = {"customer.name": "Carla", "ticket.number": "7", "ticket.subject": "Refund",
          "agent.name": "Alice"}


def test_every_placeholder_is_replaced():
    text = "Hi {customer.name}, #{ticket.number} ({ticket.subject}) -- {agent.name}"
    assert canned.render(text, VALUES) == "Hi Carla, #7 (Refund) -- Alice"


def test_doubled_braces_are_literal_braces():
    assert canned.render("{{customer.name}} {{}} }}{{", VALUES) == "{customer.name} {} }{"


def test_missing_values_render_empty():
    assert canned.render("Hi {customer.name}!", {}) == "Hi !"


def test_values_are_never_parsed_again():
    values = {**VALUES, "ticket.subject": "{agent.name} {0} {{"}
    assert canned.render("{ticket.subject}", values) == "{agent.name} {0} {{"


def test_html_rendering_escapes_values():
    values = {**VALUES, "customer.name": '<script>x()</script>" onclick="y'}
    out = canned.render('<a title="{customer.name}">{customer.name}</a>', values, html=True)
    assert "<script>" not in out and '" onclick' not in out and "&lt;script&gt;" in out


@pytest.mark.parametrize("template, named", [
    ("{ticket.__class__}", "{ticket.__class__}"), ("{0}", "{0}"), ("{}", "{}"),
    ("{customer.name.__globals__}", "{customer.name.__globals__}"),
    ("{ticket.number!r}", "{ticket.number!r}"), ("{ticket.number:>10}", "{ticket.number:>10}"),
    ("{customer[name]}", "{customer[name]}"), ("{ customer.name }", "{ customer.name }"),
    ("{Customer.Name}", "{Customer.Name}")])
def test_unknown_placeholders_are_named(template, named):
    with pytest.raises(canned.TemplateError, match=re.escape(named)):
        canned.check(template)


def test_every_unknown_placeholder_is_named_once():
    with pytest.raises(canned.TemplateError) as caught:
        canned.check("{a} {b} {a} {customer.name}")
    assert str(caught.value).startswith("unknown placeholders {a}, {b};")


def test_many_unknown_placeholders_are_counted_not_all_repeated():
    with pytest.raises(canned.TemplateError) as caught:
        canned.check("".join(f"{{x{i}}}" for i in range(1000)))
    assert "and 990 more" in str(caught.value) and len(str(caught.value)) < 500


def test_a_long_unknown_placeholder_is_shortened_in_the_error():
    with pytest.raises(canned.TemplateError) as caught:
        canned.check("{" + "x" * 10_000 + "}")
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("template", ["{", "}", "a { b", "a } b", "{{{", "{customer.name}}",
                                      "{{customer.name}"])
def test_unmatched_braces_are_refused(template):
    with pytest.raises(canned.TemplateError, match="unmatched"):
        canned.check(template)


def test_huge_templates_are_checked_in_linear_time():
    import time
    hostile = ["{" * 100_000, "{a" * 50_000, "x" * 99_999 + "{", "{customer.name}" * 6_000]
    started = time.monotonic()
    for text in hostile:
        try:
            canned.check(text)
        except canned.TemplateError:
            pass
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("template", ["Hi {customer.name}", "{{x}}", "plain", "", "{{",
                                      "{a}", "}", "{0}", "a\x00b", "{ticket.number}}}"])
def test_the_documented_pattern_is_the_language_the_checker_accepts(template):
    try:
        canned.check(template)
        valid = "\x00" not in template
    except canned.TemplateError:
        valid = False
    assert bool(re.fullmatch(canned.PATTERN, template)) == valid
