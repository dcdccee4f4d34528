"""Telegram updates shaped exactly like the Bot API's JSON (field names, nesting, unix dates)."""
from __future__ import annotations

import json

CUSTOMER_ID = 287654321
DATE = 1718000000  # 2024-06-10 06:13:20 UTC


def user(user_id: int = CUSTOMER_ID, first_name: str = "Jana", last_name: str = "Nováková",
         username: str = "jana_n") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "last_name": last_name,
            "username": username, "language_code": "cs"}


def private_chat(chat_id: int = CUSTOMER_ID) -> dict:
    return {"id": chat_id, "first_name": "Jana", "last_name": "Nováková", "username": "jana_n",
            "type": "private"}


def message(update_id: int, message_id: int, text: str | None = "Hello, my order is late",
            chat_id: int = CUSTOMER_ID, sender: dict | None = None, date: int = DATE,
            **fields) -> dict:
    body = {"message_id": message_id, "from": sender or user(chat_id), "chat": private_chat(chat_id),
            "date": date, **fields}
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            body["entities"] = [{"offset": 0, "length": len(text.split(" ")[0]),
                                 "type": "bot_command"}]
    return {"update_id": update_id, "message": body}


def edited(update_id: int, message_id: int, text: str, edit_date: int,
           chat_id: int = CUSTOMER_ID) -> dict:
    update = message(update_id, message_id, text, chat_id)
    body = update.pop("message")
    body["edit_date"] = edit_date
    return {"update_id": update_id, "edited_message": body}


def photo(update_id: int, message_id: int, file_id: str = "AgACAgIAAxkBAAIBZ2Zl-large",
          caption: str | None = "The package arrived broken", chat_id: int = CUSTOMER_ID,
          size: int = 48213) -> dict:
    sizes = [
        {"file_id": "AgACAgIAAxkBAAIBZ2Zl-small", "file_unique_id": "AQADsmall", "file_size": 1254,
         "width": 90, "height": 67},
        {"file_id": "AgACAgIAAxkBAAIBZ2Zl-medium", "file_unique_id": "AQADmedium",
         "file_size": 15879, "width": 320, "height": 240},
        {"file_id": file_id, "file_unique_id": "AQADlarge", "file_size": size, "width": 1280,
         "height": 960},
    ]
    extra = {"caption": caption} if caption is not None else {}
    return message(update_id, message_id, None, chat_id, photo=sizes, **extra)


def document(update_id: int, message_id: int, file_id: str = "BQACAgIAAxkBAAIBaGZl-doc",
             file_name: str = "invoice-2024-117.pdf", mime_type: str = "application/pdf",
             size: int = 20321, chat_id: int = CUSTOMER_ID) -> dict:
    return message(update_id, message_id, None, chat_id, document={
        "file_name": file_name, "mime_type": mime_type, "file_id": file_id,
        "file_unique_id": "AgADdoc", "file_size": size})


def contact(update_id: int, message_id: int, phone: str = "420601234567",
            user_id: int | None = CUSTOMER_ID, chat_id: int = CUSTOMER_ID) -> dict:
    shared = {"phone_number": phone, "first_name": "Jana", "last_name": "Nováková"}
    if user_id is not None:
        shared["user_id"] = user_id
    return message(update_id, message_id, None, chat_id, contact=shared)


def raw(update: dict) -> bytes:
    return json.dumps(update, ensure_ascii=False).encode()
