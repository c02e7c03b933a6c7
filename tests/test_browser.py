"""The archive in a real browser: headless Chromium against `archiver serve` on loopback.

Opens the index page, one canned query and the dashboard, checks what renders
(the DOM after scripts ran, from ``--dump-dom``) and saves a screenshot of the
dashboard under the test's tmp_path. Chromium is Debian's ``chromium`` (Google
Chrome serves too); when it is missing the test installs it with apt-get if it
can (as root, or with password-less sudo) and otherwise skips, saying why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_serve import A2, DELETED, build_archive

pytest.importorskip("datasette_dashboards", reason="the serve extra is not installed: pip install -e '.[test]'")

CHROMIUM_NAMES = ("chromium", "google-chrome", "google-chrome-stable", "chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1400"]


def find_chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip("Chromium is not installed and apt-get is not available to install it")
    sudo: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
            sudo = ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
        else:
            pytest.skip("Chromium is not installed and installing it needs root (apt-get install -y chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = subprocess.run([*sudo, "apt-get", "install", "-y", "chromium"], capture_output=True, text=True,
                             env=env, timeout=900)
    if install.returncode != 0:  # the package lists may be missing on a fresh machine
        subprocess.run([*sudo, "apt-get", "update"], capture_output=True, env=env, timeout=300)
        install = subprocess.run([*sudo, "apt-get", "install", "-y", "chromium"], capture_output=True, text=True,
                                 env=env, timeout=900)
    found = find_chromium()
    if not found:
        last = (install.stderr or install.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"Chromium could not be installed with apt-get: {last[0]}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`archiver serve` in its own process, on a free loopback port."""
    archive = build_archive(tmp_path_factory.mktemp("browser") / "archive.db")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "archiver", "serve", "--db", str(archive.path),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/-/versions.json", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    out, err = proc.communicate()
                    pytest.fail(f"archiver serve did not start: {err.decode(errors='replace')[-2000:]}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def browse(chromium: str, profile: Path, url: str, *extra: str) -> str:
    """The DOM of the page after its scripts ran."""
    result = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                             *extra, "--dump-dom", url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_index_canned_query_and_dashboard_render(chromium, server, tmp_path):
    profile = tmp_path / "profile"

    index = browse(chromium, profile, server + "/")
    assert "<title>Embedded posts archive" in index
    assert 'href="/archive"' in index

    canned = browse(chromium, profile, server + "/archive/posts_now_dark")
    assert "Posts that went dark" in canned
    assert A2 in canned and DELETED in canned
    assert "<table" in canned and "last_seen_available" in canned

    embeds = browse(chromium, profile, server + "/archive/embeds")
    assert "&lt;blockquote class=" in embeds  # the stored markup is text on the page...
    assert '<blockquote class="twitter-tweet"' not in embeds  # ...never an element

    dashboard = browse(chromium, profile, server + "/-/dashboards/archive-health")
    assert "Archive health" in dashboard
    for chart in ("dark-per-week", "site-availability", "checks-per-night"):  # vega-embed drew each chart
        assert f'id="chart-{chart}" class="dashboard-card-chart vega-embed' in dashboard, chart
    assert dashboard.count("<svg") >= 3
    assert ">80 %</p>" in dashboard  # the share gone dark, as `archiver stats` prints it

    shot = tmp_path / "dashboard.png"
    result = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                             f"--screenshot={shot}", server + "/-/dashboards/archive-health"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
