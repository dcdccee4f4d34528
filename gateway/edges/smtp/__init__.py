"""The SMTP edge (aiosmtpd): python -m gateway.edges.smtp."""
