"""OpenAPI paths and schema of the customers (``gateway.api.customers``), for
``gateway.api.openapi``: ``customer_schema()`` is the Customer component (the ticket's ``customer``
object plus tags, ticket count and creation time), ``paths()`` the customer paths."""
from __future__ import annotations

from gateway.api.actions_doc import body
from gateway.api.customers import MAX_NAME
from gateway.api.routing_doc import TAGS
from gateway.api.openapi import (CURSOR, INT, LIMIT, ONE_LINE, PREFIX, STR_LIST, TIME, listing, obj, operation, path, query, reply, ref, ticket_schema)


def customer_schema() -> dict:
    as_on_tickets = ticket_schema()["properties"]["customer"]["properties"]
    return obj({**as_on_tickets,
                "tags": {**STR_LIST, "description": "read by routing rules (customer_tags) "
                         "and priority raisers (vip_tags) for the customer's next message"},
                "ticket_count": {**INT, "description": "tickets of the customer, deleted "
                                 "ones left out"},
                "created_at": TIME})


def paths() -> dict:
    customer_id = path("id", "customer id")
    tags = {**TAGS, "description": "the new list (replaces); routing uses it from the "
                                   "customer's next message on"}
    name = {"type": "string", "maxLength": MAX_NAME, "pattern": ONE_LINE}
    changes = body({"tags": tags, "name": name}, (),
                   anyOf=[{"required": ["tags"]}, {"required": ["name"]}])
    return {
        f"{PREFIX}/customers": {"get": operation(
            "List customers, newest first",
            {"200": reply("A page", listing("customers", "Customer"))},
            (query("q", "case-insensitive substring of the name or of any identity value "
                        "(email address, phone, ...)"),
             query("tag", "only customers having this tag (exact)"), LIMIT, CURSOR),
            (400, 401, 503))},
        f"{PREFIX}/customers/{{id}}": {
            "get": operation("One customer", {"200": reply("The customer", ref("Customer"))},
                             [customer_id], (401, 404, 503)),
            "patch": {**operation(
                "Set the customer's tags or name",
                {"200": reply("The customer after the change", ref("Customer"))},
                [customer_id], (400, 401, 404, 503)), "requestBody": changes}}}
