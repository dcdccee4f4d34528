"""Builders of TicketEvents for pipeline tests."""
from channels.event import Address, Classification, ThreadHints, TicketEvent
from queues.intake import now_iso


def mail_event(message_id: str, sender: str = "alice@customer.test", subject: str = "Help",
               text: str = "Hello", in_reply_to=(), references=(), subject_number=None,
               kind: str = "normal", workspace: str = "demo", **extra) -> TicketEvent:
    return TicketEvent(
        workspace=workspace, channel="email", account="smtp", native_id=message_id,
        dedupe_key=f"mid:{message_id}:{hash(text) & 0xffff:x}", received_at=now_iso(),
        sender=Address("Alice", sender), to=[Address("", "support@demo.test")],
        subject=subject, text=text, reply_text=text,
        thread=ThreadHints(in_reply_to=list(in_reply_to), references=list(references),
                           subject_number=subject_number),
        classification=Classification(kind=kind, **extra))


def chat_event(message_id: str, conversation: str = "conv-1", visitor: str = "v-1",
               text: str = "Hi there", links=(), revision: str = "", account: str = "widget",
               workspace: str = "demo") -> TicketEvent:
    return TicketEvent(
        workspace=workspace, channel="chat", account=account, native_id=message_id,
        dedupe_key=f"chat:{conversation}:{message_id}", received_at=now_iso(),
        sender=Address("Visitor", f"chat:{visitor}"), subject="Chat", text=text,
        reply_text=text, thread=ThreadHints(conversation_id=conversation), links=list(links),
        revision=revision)
