"""Placeholder: the form edge is being built (issue 3)."""
from flask import Blueprint

bp = Blueprint("form", __name__)
