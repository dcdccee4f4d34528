"""Placeholder: the webhook edge is being built (issue 3)."""
from flask import Blueprint

bp = Blueprint("webhook", __name__)
