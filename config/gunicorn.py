"""Gunicorn settings for crowd: ``gunicorn -c config/gunicorn.py wsgi:app``."""
import multiprocessing
import os

bind = os.environ.get("CROWD_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CROWD_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("CROWD_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("CROWD_TIMEOUT", "60"))
graceful_timeout = 30
# Seconds an idle keep-alive connection is held open. Longer than nginx's upstream
# keepalive_timeout (deploy/nginx/crowd.conf), so nginx always closes an idle
# connection first: were gunicorn to close it first, a request nginx sends on it at
# that moment fails, and nginx does not resend a POST (next, answer), so it is a 502.
keepalive = int(os.environ.get("CROWD_KEEPALIVE", "75"))
# With CROWD_LOG_FORMAT=json crowd writes its own JSON line per request; gunicorn's
# text access line would only interleave with it.
accesslog = (None if os.environ.get("CROWD_LOG_FORMAT", "").strip().lower() == "json"
             else os.environ.get("CROWD_ACCESS_LOG", "-"))
errorlog = "-"
forwarded_allow_ips = os.environ.get("CROWD_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Header ceilings. gunicorn refuses past these with its own HTML page, so they sit
# well above the app's limits (crowd.web.limits: 8 KiB a header, 32 KiB in all),
# which answer 431 with the JSON error body. A field up to 64 KiB and 128 fields
# reach the app; beyond that gunicorn answers 431 itself. The request line (method,
# path, query) is at gunicorn's own maximum, 8190 bytes; a longer one is its 414.
limit_request_field_size = 64 * 1024
limit_request_fields = 128
limit_request_line = 8190
