"""Run inside the peer's virtual environment: django-helpdesk ingests every file of a folder,
in name order, as its ``get_email`` command does for a local mailbox (``process_queue``), and
prints one JSON line with the figures.

The one difference from ``process_queue``: the file is read as bytes and decoded with
``errors="replace"``; ``process_queue`` opens it in text mode and crashes on the first 8-bit
mail (a UnicodeDecodeError), so it could not ingest the set at all.
"""
import json
import logging
import os
import sys
import time

import django

django.setup()

from helpdesk.email import extract_email_metadata  # noqa: E402  (needs django.setup())
from helpdesk.exceptions import DeleteIgnoredTicketException, IgnoreTicketException  # noqa: E402
from helpdesk.models import FollowUp, Queue, Ticket  # noqa: E402
from django.utils import encoding  # noqa: E402


def main(mail_dir: str) -> None:
    queue = Queue.objects.create(title="Support", slug="support",
                                 email_address="support@demo.test", email_box_type="local",
                                 email_box_local_dir=mail_dir, allow_email_submission=True)
    logger = logging.getLogger("peer")
    logger.setLevel(logging.WARNING)
    names = sorted(os.listdir(mail_dir))
    failed = 0
    started = time.perf_counter()
    for name in names:
        with open(os.path.join(mail_dir, name), "rb") as handle:
            message = encoding.force_str(handle.read(), errors="replace")
        try:
            extract_email_metadata(message=message, queue=queue, logger=logger)
        except (IgnoreTicketException, DeleteIgnoredTicketException):
            pass
        except Exception:  # counted: the peer's own failures are part of its result
            failed += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"messages": len(names), "seconds": elapsed, "failed": failed,
                      "tickets": Ticket.objects.count(), "followups": FollowUp.objects.count()}))


if __name__ == "__main__":
    main(sys.argv[1])
