"""Static files as production serves them: collected under hashed names, compressed, cached
for a year. Real: `collectstatic`, then gunicorn (scripts/serve web) with DEBUG off."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.factories import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_collected_files_are_hashed_compressed_and_cached_for_a_year(tmp_path):
    port = free_port()
    unset = {"DATABASE_URL", "HUEY_REDIS_URL", "SQLITE_PATH", "DEBUG", "PROMETHEUS_MULTIPROC_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {
        "PORTAL_VAR_DIR": str(tmp_path),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "PYTHON": sys.executable,
    }
    for command in (["collectstatic", "--noinput"], ["migrate", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()

    server = subprocess.Popen(
        [str(ROOT / "scripts" / "serve"), "web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(f"{base}/staff/login/", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        assert page.status_code == 200
        # The page names the stylesheet by its hashed name.
        css = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page.text)
        assert css, page.text[:2000]
        response = httpx.get(base + css.group(1), headers={"Accept-Encoding": "gzip"}, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        cache = response.headers["Cache-Control"]
        assert "max-age=315360000" in cache and "immutable" in cache
        # The unhashed name is not what pages use; it is served with a short cache only.
        plain = httpx.get(f"{base}/static/css/portal.css", timeout=5)
        assert "immutable" not in plain.headers.get("Cache-Control", "")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
