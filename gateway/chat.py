"""Placeholder: the chat edge is being built (issue 3)."""
from flask import Blueprint

bp = Blueprint("chat", __name__)
