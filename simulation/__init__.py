"""The routing simulator and the linter of routing configurations, beside the pure engine in
``routing``: a generated or recorded day replayed through the real ``Router``
(``simulation.simulate``, ``day``, ``report``, ``chart``), the checks of ``lint``, their input
(``config_input``, or a workspace file's ``routing:`` block through ``workspace_input``) and the
command line ``python -m simulation simulate|lint``. See docs/routing.md."""
