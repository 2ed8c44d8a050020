"""gunicorn's settings for the `web` role (scripts/serve web; docs/operations.md), from the
environment. gunicorn reads the module's names: https://docs.gunicorn.org/en/stable/settings.html

Each worker process runs WEB_THREADS threads (the gthread worker), and each thread keeps at most
one database connection: the web role holds up to WEB_CONCURRENCY × WEB_THREADS connections
(docs/operations.md, "Connection budget").
"""

import os
from typing import Any

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads let a worker serve a request while another waits on the database or a partner (the
# sandbox's pages call the portal over HTTP: with one thread per worker two of them deadlock).
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# A request running longer than this is killed (and logged): nothing in the portal should.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
# On SIGTERM a worker finishes its requests for up to this long before it is killed.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle a worker after this many requests (jittered so they don't all restart at once):
# bounds the memory a slow leak in any library could take.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# The heartbeat file on tmpfs: a slow disk never makes the master think a worker hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# The portal logs one line per request itself (with the request id); gunicorn's access log off.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "portal-web"
# gunicorn ≥ 24 opens a control socket in the home directory by default: two portals (or a
# benchmark beside `make run`) on one machine would fight over it, and nothing here uses it.
control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    """A recycled worker's live figures leave the metrics directory (portal/prometheus.py)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
