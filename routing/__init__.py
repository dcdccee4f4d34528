"""Skill-based routing: a pure, in-memory engine (``routing.engine.Router``) that assigns tickets
to agents by skills, capacity and presence, queues what cannot be assigned, relaxes requirements
step by step and explains every decision. The simulator and the linter of routing configurations
are the package ``simulation``. See docs/routing.md."""
