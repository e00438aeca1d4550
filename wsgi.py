"""WSGI entry point: ``gunicorn -c config/gunicorn.py wsgi:app``."""
from config import config_from_env
from crowd import create_app

app = create_app(config_from_env())
