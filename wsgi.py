"""WSGI entry point: ``gunicorn -c config/gunicorn.py wsgi:app``.

This is the one place where a web process starts the scheduled jobs: with
``CROWD_SCHEDULER_ENABLED`` each gunicorn worker runs them in a thread (the
database lets one process run each job per interval). Leave it unset when
``crowd scheduler`` runs them in a process of its own.
"""
from config import config_from_env
from crowd import create_app
from crowd.jobs.schedule import start_if_enabled

app = create_app(config_from_env())
start_if_enabled(app)
