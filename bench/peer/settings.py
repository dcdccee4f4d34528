"""Django settings of the peer benchmark's django-helpdesk (run in its own virtual
environment by ``bench.peer_helpdesk``); its files live in ``$PEER_DIR``."""
import os

PEER_DIR = os.environ["PEER_DIR"]
SECRET_KEY = "bench-only"
DEBUG = False
USE_TZ = True
SITE_ID = 1
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages", "django.contrib.sites",
                  "django.contrib.humanize", "rest_framework", "helpdesk"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.path.join(PEER_DIR, "helpdesk.sqlite3")}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # its notifications, kept
HELPDESK_TEAMS_MODE_ENABLED = False  # needs pinax-teams otherwise
ROOT_URLCONF = "urls"
MEDIA_ROOT = os.path.join(PEER_DIR, "media")  # attachments
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": [
                  "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages",
                  "django.template.context_processors.request"]}}]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
