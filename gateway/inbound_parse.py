"""Placeholder: the inbound_parse edge is being built (issue 3)."""
from flask import Blueprint

bp = Blueprint("inbound_parse", __name__)
