"""Normalized events of a fixed set of mails, as JSON lines: compare two trees' adapters.

A change meant to make the email adapter faster must not change what it makes. This dumps,
for every input, the event (or the ``Unparseable`` reason), the attachment blobs' hashes and
the language ``rules_step.early_language`` detects with the example workspace. The inputs
are frozen in a pickle the first time (``--inputs``), so two trees read the very same bytes:
the ``make run`` corpus (``bench.make_run.corpus``), the default ``bench.mailgen`` corpus, the
test fixtures (``tests/channels/fixtures``), the shared corpora (``../shared/corpora``, as
``tests.fuzz.corpus`` reads them) and seeded fuzz mutations of those (``tests.fuzz.mutations``).

    PYTHONPATH=. .venv/bin/python -m bench.event_dump --out /tmp/new.jsonl
    cd ../main && PYTHONPATH=. .venv/bin/python /path/to/bench/event_dump.py --out /tmp/old.jsonl
    cmp /tmp/old.jsonl /tmp/new.jsonl
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import random
from dataclasses import asdict
from pathlib import Path

DEFAULT_INPUTS = "/tmp/ticketgate-event-dump-inputs.pickle"
MUTATIONS_PER_MAIL = 2
OPTION_SETS = (  # (own_domains, envelope_to, subject_prefix)
    (("demo.test",), ("support@demo.test",), ""),
    ((), (), "DEMO"),
)


def build_inputs() -> list[tuple[str, bytes]]:
    """(name, raw) of every input, in a stable order."""
    from bench.make_run import corpus
    from bench.mailgen import generate
    from tests.fuzz.corpus import corpus_mails
    from tests.fuzz.mutations import MUTATIONS, mutate

    inputs = [(f"make_run/{n}", raw) for n, raw in enumerate(corpus(3000))]
    inputs += [(f"mailgen/{n}", raw) for n, raw in enumerate(generate(500))]
    fixtures = Path("tests/channels/fixtures")
    inputs += [(str(p), p.read_bytes()) for p in sorted(fixtures.rglob("*")) if p.is_file()]
    shared = list(corpus_mails())
    inputs += [(f"corpora/{n}", raw) for n, raw in enumerate(shared)]
    kinds = sorted(MUTATIONS)
    rng = random.Random(12)
    for n, raw in enumerate(shared + [raw for _, raw in inputs[:200:7]]):
        for m in range(MUTATIONS_PER_MAIL):
            kind = rng.choice(kinds)
            inputs.append((f"mutated/{n}/{m}/{kind}", mutate(raw, rng, kind)))
    return inputs


def dump(inputs: list[tuple[str, bytes]], out) -> None:
    from channels import email
    from channels.common import Unparseable
    from config.workspaces import load_config
    from workers.ingest.rules_step import early_language

    config = load_config("config/ticketgate.yaml").workspace("demo")
    for name, raw in inputs:
        for number, (own, rcpt, prefix) in enumerate(OPTION_SETS):
            record = {"input": name, "options": number}
            try:
                parsed = email.parse(raw, workspace="demo", account="smtp",
                                     received_at="2026-01-01T00:00:00+00:00", raw_ref="r",
                                     own_domains=own, envelope_to=rcpt,
                                     envelope_from="bounce@example.org", subject_prefix=prefix)
            except Unparseable as exc:
                record["unparseable"] = str(exc)
            else:
                record["event"] = asdict(parsed.event)
                record["blobs"] = sorted(hashlib.sha256(b).hexdigest()
                                         for b in parsed.blobs.values())
                record["blob_keys"] = sorted(parsed.blobs)
                if number == 0:
                    record["language"] = early_language(parsed.event, config)
            out.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", default=DEFAULT_INPUTS,
                        help="pickle of the inputs: made here when absent, read when present")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    path = Path(args.inputs)
    if not path.exists():
        path.write_bytes(pickle.dumps(build_inputs()))
    inputs = pickle.loads(path.read_bytes())
    with open(args.out, "w", encoding="utf-8") as out:
        dump(inputs, out)
    print(f"{len(inputs)} inputs, {len(OPTION_SETS)} option sets each -> {args.out}")


if __name__ == "__main__":
    main()
