"""The web chat edge: the signed webhook, the embeddable widget and the visitor's history."""
