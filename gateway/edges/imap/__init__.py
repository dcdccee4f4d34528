"""The IMAP edge: poll configured mailboxes (imapclient) and enqueue their mail on the ``email``
queue, tracking UIDVALIDITY and the last enqueued UID per folder (docs/imap.md).

Modules: ``state`` (pure bookkeeping), ``folders`` (stored state), ``connection`` (IMAP calls),
``sync`` (one pass over a folder), ``poller`` (the loop of one folder), ``service`` (the process),
``backfill``, ``health``; ``python -m gateway.edges.imap`` is the command line.
"""
