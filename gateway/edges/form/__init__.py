"""The web contact form edge: GET|POST /contact/<workspace> and its JSON endpoint."""
