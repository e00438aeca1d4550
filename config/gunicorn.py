"""Gunicorn settings for crowd: ``gunicorn -c config/gunicorn.py wsgi:app``."""
import multiprocessing
import os

bind = os.environ.get("CROWD_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CROWD_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("CROWD_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("CROWD_TIMEOUT", "60"))
graceful_timeout = 30
accesslog = os.environ.get("CROWD_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("CROWD_FORWARDED_ALLOW_IPS", "127.0.0.1")
