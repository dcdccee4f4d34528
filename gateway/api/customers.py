"""Customers of the REST API (docs/api.md), under /api/v1 (``gateway.api.root``):
``GET /customers?q=&tag=&limit=&cursor=`` -> ``{"customers": [Customer], "next_cursor"}``,
``GET /customers/<id>`` and ``PATCH /customers/<id>`` (``tags``, the new list, and ``name``).

Customer: the ticket's ``customer`` object (``id, name, email, identities``) plus ``tags``,
``ticket_count`` (tickets of the customer but deleted ones, as ``GET /tickets?customer=<id>``
lists them) and ``created_at``. A key sees its workspace's customers only; another workspace's
is a plain 404. The list is keyset-paginated by id, newest first; ``q`` is a case-insensitive
substring of the name or of any identity value (an email address, a phone number ...), ``tag``
keeps customers having exactly that tag. Tags are validated like ticket tags
(``gateway.api.patch.Tag``); the rules step reads them for the customer's next message
(``customer_tags`` matches, ``vip_tags`` priority raisers), nothing already routed changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gateway.api import params as wire, schemas
from gateway.api.params import json_body, text_query
from gateway.api.patch import MAX_TAGS, Tag, at_least_one_of
from gateway.api.requests import ONE_LINE, ApiRequest
from gateway.api.spec import operation, reply
from gateway.api.tickets import HIDDEN_STATUS, not_found, path_id, workspace_id_of
from gateway.app_runtime import runtime
from gateway.errors import bad_request
from store.models import Customer, Identity, Ticket
from tickets.wire import customer_json, identities_of, iso

bp = Blueprint("customers", __name__)
CUSTOMER_CURSOR = "c"  # cursor prefix, distinct from the ticket and quarantine lists'
MAX_NAME = 300         # characters of Customer.name
# Per dialect, the set-returning function giving the elements of a JSON array as rows of text.
JSON_ELEMENTS = {"sqlite": "json_each", "postgresql": "json_array_elements_text"}
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_NAME,
                                        pattern=ONE_LINE)]


class CustomerPatch(ApiRequest, json_schema_extra=at_least_one_of("tags", "name")):
    """The body; only the fields sent are changed."""
    tags: list[Tag] = Field(None, max_length=MAX_TAGS, description="the new list (replaces); "
                            "routing uses it from the customer's next message on")
    name: Name = ""


class CustomerQuery(wire.PageQuery):
    q: str = text_query("case-insensitive substring of the name or of any identity value "
                        "(email address, phone, ...)")
    tag: str = text_query("only customers having this tag (exact)")


class CustomerId(BaseModel):
    id: int = Field(ge=1, description="customer id")


@dataclass(frozen=True)
class CustomerList(wire.Page):
    q: str
    tag: str


@bp.get("/customers")
@operation("List customers, newest first", {200: reply("A page", schemas.CustomerPage)},
           query=CustomerQuery, errors=(400, 401, 503))
def list_customers():
    p = customer_list(request.args)
    with runtime().read_sessions() as session:
        rows = list(session.scalars(customer_query(session, workspace_id_of(session), p)))
        page, next_cursor = wire.page(rows, p.limit, CUSTOMER_CURSOR)
        return jsonify({"customers": customers_json(session, page), "next_cursor": next_cursor})


def customer_list(args) -> CustomerList:
    """Validate the list parameters; a 400 names every invalid one."""
    errors: dict[str, str] = {}
    limit, after = wire.page_args(args, CUSTOMER_CURSOR, errors)
    q, tag = wire.text_arg(args, "q", errors), wire.text_arg(args, "tag", errors)
    if errors:
        raise bad_request(errors)
    return CustomerList(limit, after, q, tag)


def customer_query(session: Session, workspace_id: int | None, p: CustomerList):
    query = select(Customer).where(Customer.workspace_id == workspace_id)
    if p.q:
        query = query.where(text_clause(workspace_id, p.q))
    if p.tag:
        query = query.where(tag_clause(session, p.tag))
    if p.after is not None:
        query = query.where(Customer.id < p.after)
    return query.order_by(Customer.id.desc()).limit(p.limit + 1)


def text_clause(workspace_id: int | None, q: str):
    """Case-insensitive substring of the name or of any identity value."""
    pattern = "%" + wire.escape_like(q) + "%"
    by_identity = select(Identity.customer_id).where(
        Identity.workspace_id == workspace_id, Identity.value.ilike(pattern, escape="\\"))
    return or_(Customer.name.ilike(pattern, escape="\\"), Customer.id.in_(by_identity))


def tag_clause(session: Session, tag: str, tags=Customer.tags):
    """The ``tags`` array (the customer's by default) holds ``tag`` (exactly, case-sensitive
    as routing is)."""
    elements = getattr(func, JSON_ELEMENTS[session.get_bind().dialect.name])(
        tags).table_valued("value")
    return select(elements.c.value).where(elements.c.value == tag).exists()


@bp.get("/customers/<int:id>")
@operation("One customer", {200: reply("The customer", schemas.Customer)}, path=CustomerId,
           errors=(401, 404, 503))
def get_customer(id: int):
    with runtime().read_sessions() as session:
        return jsonify(customers_json(session, [find_customer(session, id)])[0])


@bp.patch("/customers/<int:id>")
@operation("Set the customer's tags or name",
           {200: reply("The customer after the change", schemas.Customer)}, path=CustomerId,
           body=CustomerPatch, errors=(400, 401, 404, 503))
def patch_customer(id: int):
    changes = parse(json_body())
    with runtime().sessions.begin() as session:
        customer = find_customer(session, id)
        for name, value in changes.items():
            setattr(customer, name, value)
        session.flush()
        return jsonify(customers_json(session, [customer])[0])


def parse(body: dict) -> dict:
    """The changes the body asks for; a 400 names every bad or unknown field."""
    patch = CustomerPatch.parse(body)
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        raise bad_request({"body": "nothing to change: send tags or name"})
    if "tags" in changes:
        changes["tags"] = list(dict.fromkeys(changes["tags"]))  # once each, in order
    return changes


def find_customer(session: Session, customer_id: int) -> Customer:
    customer = session.scalar(select(Customer).where(
        Customer.workspace_id == workspace_id_of(session),
        Customer.id == path_id(customer_id, wire.MAX_ROW_ID)))
    if customer is None:
        raise not_found("customer")
    return customer


def customers_json(session: Session, customers: list[Customer]) -> list[dict]:
    """Customers as the API shows them; identities and ticket counts in one query each."""
    if not customers:
        return []
    ids = [c.id for c in customers]
    identities = identities_of(session, ids)
    counts = dict(session.execute(
        select(Ticket.customer_id, func.count()).where(Ticket.customer_id.in_(ids),
                                                       Ticket.status != HIDDEN_STATUS)
        .group_by(Ticket.customer_id)).all())
    return [{**customer_json(c, identities[c.id]), "tags": c.tags or [],
             "ticket_count": counts.get(c.id, 0), "created_at": iso(c.created_at)}
            for c in customers]
