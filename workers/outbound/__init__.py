"""The outbound half: delivering agent replies and automatic mail, pushing ticket changes.

``queue`` enqueues jobs on the ``outbound`` queue; ``deliver`` sends a stored reply through its
ticket's channel (``mail`` + ``relay`` or the local ``outbox``, ``telegram``, ``chat``); ``ack``
sends the optional acknowledgement of a new ticket (decided by the pure ``autoreply``);
``webhook`` pushes ticket changes to an external core; ``hooks`` is what the ingest job calls
after its batch committed; ``flush`` sends the mail kept in the ``outbox`` once a relay is set.
"""
