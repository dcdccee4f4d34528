"""URLs of the peer's Django project: its mail templates reverse ``helpdesk:`` names."""
from django.urls import include, path

urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
