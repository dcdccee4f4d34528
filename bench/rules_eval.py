"""Rules evaluation per message: RE2 (what rules use) against Python's ``re`` (what they used).

50 rules, each with a ``subject`` and a ``text`` regex (keyword alternations with Czech
diacritics, ``\\w``/``\\d``/``\\s`` classes, a bounded gap); every subject regex matches, so every
text regex runs, and no text regex matches, so each scans all the text it may see (the worst case
short of a pathological pattern). Texts are mixed Czech/English, 1 KB and 64 KB (rules see the
first ``TEXT_LIMIT`` = 20,000 characters of the latter). The time per message includes building
the ``RuleInput`` (the UTF-8 encoding RE2 reads); wall and thread CPU time are both printed
(CPU time leaves out preemption by other processes). ``--engine re`` builds the same rules with
Python's ``re`` as before, here only; ``--redos`` times ``(a+)+$`` on "a...ab" and ``(a*)*b``
on "a...a" with both engines.

    .venv/bin/python -m bench.rules_eval [--engine both|re2|re --messages 2000 --warm-up 20
                                         --redos]
"""
from __future__ import annotations

import argparse
import random
import re
import time
from datetime import datetime, timezone

from bench.common import percentile
from routing.rules import SUBJECT_LIMIT, TEXT_LIMIT, Rule, RuleInput, Rules, evaluate, load_rules
from routing.user_regex import user_regex

AT = datetime(2025, 3, 4, 9, 0, tzinfo=timezone.utc)
WORDS = ("dobrý den posílám dotaz k objednávce prosím o kontrolu účtu děkuji za odpověď "
         "hello we have a question about the delivery please check the account thanks "
         "zásilka nedorazila včas reklamace zboží číslo smlouvy platba převodem").split()
TOPICS = ["faktur", "výpadek", "reklamac", "vrácení", "heslo", "přihlášení", "dobropis", "sklad",
          "doprav", "záruk", "spotřebitel", "smlouv", "tarif", "roaming", "internet", "modem"]


def specs(count: int) -> list[dict]:
    """``count`` rules whose subject regex matches every generated subject and whose text regex
    matches no generated text (the topics and codes never occur in it)."""
    rules = []
    for n in range(count):
        topic, other = TOPICS[n % len(TOPICS)], TOPICS[(n * 7 + 3) % len(TOPICS)]
        text = [rf"{topic}\w*\s+(č\.|číslo|no\.?)\s*\d{{4,}}",
                rf"(?:^|\W)(?:{topic}|{other})[a-zá-ž]*ová\s+\w+ZZ{n}",
                rf"\bcase-{n:03d}\b|ticket\s*#\s*{n}\d{{6}}",
                rf"{topic}.{{0,40}}{other}\w*\s*Q{n}"][n % 4]
        match = {"subject": r"dotaz|question|\d{3,}", "text": text}
        rules.append({"name": f"r{n:02d}", "match": match, "then": {"tags": [f"t{n}"]}})
    return rules


def python_re_rules(rule_specs: list[dict]) -> Rules:
    """The same rules compiled the way they were before RE2: Python's ``re``, any case."""
    rules = Rules()
    rules.rules = tuple(Rule(spec["name"], _python_conditions(spec["match"]),
                             compiled.then, compiled.stop)
                        for spec, compiled in zip(rule_specs, load_rules(rule_specs).rules))
    return rules


def _python_conditions(match: dict) -> tuple:
    subject = re.compile(match["subject"], re.IGNORECASE)
    text = re.compile(match["text"], re.IGNORECASE)
    return (lambda item: subject.search(item.subject, 0, SUBJECT_LIMIT) is not None,
            lambda item: text.search(item.text, 0, TEXT_LIMIT) is not None)


def message_text(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word.upper() if rng.random() < 0.05 else word)
        length += len(word.encode()) + 1
    return " ".join(words)


def measure(rules: Rules, texts: list[str], subjects: list[str], warm_up: int) -> dict:
    """Per-message latency after ``warm_up`` messages (RE2 builds its DFA states lazily)."""
    latencies, cpu = [], []
    for subject, text in zip(subjects, texts):
        cpu_started, started = time.thread_time(), time.perf_counter()
        outcome = evaluate(rules, RuleInput(channel="email", at=AT, subject=subject, text=text))
        latencies.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - cpu_started)
        assert outcome.matched == [], outcome.matched  # every text regex scanned to the end
    latencies, cpu = latencies[warm_up:], cpu[warm_up:]
    return {"per_s": len(latencies) / sum(latencies), "p50_ms": percentile(latencies, 50) * 1e3,
            "p99_ms": percentile(latencies, 99) * 1e3, "cpu_per_s": len(cpu) / sum(cpu),
            "cpu_p99_ms": percentile(cpu, 99) * 1e3}


REDOS = ((r"(a+)+$", "b"), (r"(a*)*b", "a"))  # (pattern, last character of "a...a?")


def redos(engine: str, pattern: str, last: str, length: int) -> float:
    """Seconds for ``pattern`` to search "a" * (length - 1) + ``last`` (no match)."""
    text = "a" * (length - 1) + last
    if engine == "re":
        compiled, subject = re.compile(pattern, re.IGNORECASE), text
    else:
        compiled, subject = user_regex(pattern), text.encode()
    started = time.perf_counter()
    assert compiled.search(subject) is None
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("both", "re2", "re"), default="both")
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--redos", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rule_specs = specs(args.rules)
    engines = {"re2": lambda: load_rules(rule_specs), "re": lambda: python_re_rules(rule_specs)}
    chosen = ("re2", "re") if args.engine == "both" else (args.engine,)
    print(f"rules={args.rules} (subject + text regex each; all subjects match, no text does)")
    for size in (1024, 65536):
        rng = random.Random(args.seed)
        count = args.warm_up + (args.messages if size < 65536 else max(1, args.messages // 8))
        texts = [message_text(rng, size) for _ in range(count)]
        subjects = [f"Dotaz {rng.randint(100, 99999)}: {rng.choice(WORDS)}" for _ in range(count)]
        for engine in chosen:
            result = measure(engines[engine](), texts, subjects, args.warm_up)
            print(f"text={size // 1024:>2} KB engine={engine:3s} messages={count - args.warm_up} "
                  f"messages/s={result['per_s']:.0f} p50={result['p50_ms']:.3f} ms "
                  f"p99={result['p99_ms']:.3f} ms | cpu time: messages/s="
                  f"{result['cpu_per_s']:.0f} p99={result['cpu_p99_ms']:.3f} ms")
    if args.redos:
        for pattern, last in REDOS:
            took = ", ".join(f"{n} chars {redos('re', pattern, last, n):.3f} s"
                             for n in (18, 20, 22))
            print(f"{pattern} re: {took}; re2: 100000 chars "
                  f"{redos('re2', pattern, last, 100_000) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
