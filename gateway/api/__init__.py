"""The REST API at /api/v1: one blueprint tree, authenticated once (tickets, actions, agents, customers, offers, quarantine, errors, parameters, the OpenAPI document)."""
