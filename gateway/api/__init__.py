"""The REST API at /api/v1: one blueprint tree, authenticated once (``root``), with tickets,
quarantine, actions, agents, offers, patch and customers as children; request models on one
strict base (``requests``), answer models (``schemas``), parameters (``params``) and the
OpenAPI document generated from all of them (``spec``, ``openapi``, ``edge_docs``)."""
