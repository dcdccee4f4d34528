"""Skill-based routing: a pure, in-memory engine (``routing.engine.Router``) that assigns tickets
to agents by skills, capacity and presence, queues what cannot be assigned, relaxes requirements
step by step and explains every decision; plus ``python -m routing simulate`` and
``python -m routing lint``. See docs/routing.md."""
