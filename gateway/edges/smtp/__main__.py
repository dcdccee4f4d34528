"""``python -m gateway.edges.smtp``: run the SMTP edge (the Procfile's ``smtp``)."""
from gateway.edges.smtp.server import main

main()
