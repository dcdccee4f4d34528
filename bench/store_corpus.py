"""Generated support-desk text for the store-size benchmark: a Zipf-distributed vocabulary.

Real mailboxes have a few words in almost every message, a long tail of rare ones and
identifiers (order numbers) that occur once or twice: a full-text index behaves very
differently on each, so the benchmark searches for all three kinds. Words are ranked: the rank
``r`` word appears with probability proportional to ``1 / r`` (Zipf, s = 1). With about 60
words a message, the word of rank r is in roughly ``5 / r`` of all messages.
"""
from __future__ import annotations

import itertools
import random

import numpy

COMMON = ("the to and you my for is order please thanks hello can not your on have with this "
          "it be we at help account issue still from would like any update support ticket "
          "invoice refund delivery payment login password email problem received working "
          "again today since week customer number product service").split()
FOREIGN = ("bonjour facture erronée merci commande livraison remboursement "
           "guten tag rückerstattung bestellung möchte lieferung rechnung "
           "dobrý den nemohu přihlásit účtu objednávka děkuji zásilka "
           "здравствуйте заказ где доставка спасибо счёт "
           "注文 配送 返金 問題 退款 订单 谢谢 问题").split()
SYLLABLES = ("ka lo mi ra te su no vi de pa ri co ne ma to li sa be ro fu "
             "gan tel mor vis quin dra pel sor tam lix").split()
SUBJECTS = ("Order {n} not delivered", "Refund for invoice {n}", "Cannot log in",
            "Problème de facturation {n}", "Rückerstattung für {n}", "Nefunguje přihlášení",
            "Вопрос по заказу {n}", "注文について {n}", "Payment failed twice",
            "Wrong item in order {n}", "Change my delivery address", "Account locked")
LONG_TAIL = 60_000     # synthetic words after the common and foreign ones
WORDS_PER_MESSAGE = (30, 90)  # uniform range


def synthetic_words(count: int) -> list[str]:
    """Distinct pronounceable words (``kalomi``, ``tesuvin``...), the same on every run."""
    found: list[str] = []
    for length in itertools.count(2):
        for combo in itertools.product(SYLLABLES, repeat=length):
            found.append("".join(combo))
            if len(found) == count:
                return found
    return found


class Corpus:
    """Ranked vocabulary and generators of subjects and message bodies."""

    def __init__(self, seed: int = 11):
        self.rng = random.Random(seed)
        self.words = COMMON + FOREIGN + synthetic_words(LONG_TAIL)
        self.cumulative = list(itertools.accumulate(1 / rank
                                                    for rank in range(1, len(self.words) + 1)))
        self.fast = numpy.random.default_rng(seed)  # for texts(): many messages at once
        self.word_array = numpy.array(self.words, dtype=object)

    def word_of_rank(self, rank: int) -> str:
        return self.words[rank - 1]

    def order_number(self, ticket_index: int) -> str:
        """A number that names one ticket (customers quote it): a rare search term."""
        return f"{(ticket_index * 7_919 + 1_000_003) % 90_000_000 + 10_000_000}"

    def subject(self, ticket_index: int) -> str:
        template = self.rng.choice(SUBJECTS)
        return template.format(n=self.order_number(ticket_index))

    def text(self, ticket_index: int) -> str:
        """A message body: Zipf words in short sentences, sometimes the order number."""
        rng = self.rng
        words = rng.choices(self.words, cum_weights=self.cumulative,
                            k=rng.randint(*WORDS_PER_MESSAGE))
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words) + 1), "#" + self.order_number(ticket_index))
        sentences = [" ".join(words[i:i + 12]) for i in range(0, len(words), 12)]
        return "Hello,\n" + ".\n".join(s.capitalize() for s in sentences) + ".\n"

    def texts(self, ticket_indexes: list[int]) -> list[str]:
        """Bodies like ``text``'s, one per ticket index, drawn all at once (the bulk load)."""
        fast = self.fast
        lengths = fast.integers(WORDS_PER_MESSAGE[0], WORDS_PER_MESSAGE[1] + 1,
                                len(ticket_indexes))
        draws = fast.random(int(lengths.sum())) * self.cumulative[-1]
        drawn = self.word_array[numpy.searchsorted(self.cumulative, draws, side="right")]
        quoted = fast.random(len(ticket_indexes)) < 0.5
        texts, start = [], 0
        for index, length, quote in zip(ticket_indexes, lengths.tolist(), quoted.tolist()):
            words = drawn[start:start + length].tolist()
            start += length
            if quote:
                words.insert(int(fast.integers(length + 1)), "#" + self.order_number(index))
            sentences = [" ".join(words[i:i + 12]).capitalize()
                         for i in range(0, len(words), 12)]
            texts.append("Hello,\n" + ".\n".join(sentences) + ".\n")
        return texts
