"""Test helpers: run `python app.py` as a real server (output in a log file), log in to it, drive Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, free_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class AppProcess:
    """One `python app.py --index INDEX` on a free loopback port; its stdout and stderr go to ``log``."""

    def __init__(self, index: Path, log: Path, *, env: dict[str, str] | None = None) -> None:
        self.index, self.log = index, log
        self.env = {k: v for k, v in os.environ.items() if k not in ("SECTORCHAT_AUTH", "SECTORCHAT_HOST")}
        self.env.update({"GRADIO_ANALYTICS_ENABLED": "False", **(env or {})})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 240) -> AppProcess:
        """Start the server and wait for Gradio's "Running on local URL" line (a hang guard, not a measurement)."""
        start = len(self.output())  # a log may already hold an earlier run's lines
        with self.log.open("a") as out:
            self.proc = subprocess.Popen([sys.executable, "app.py", "--index", str(self.index), "--port",
                                          str(self.port)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
                                         env=self.env)
        deadline = time.monotonic() + timeout
        while "Running on local URL" not in self.output()[start:] and self.proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert "Running on local URL" in self.output()[start:], self.output()
        return self

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def stop(self, *, kill: bool = False) -> None:
        """Terminate the server (or SIGKILL it, as a crash would) and wait for it to end."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill() if kill else self.proc.terminate()
        self.proc.wait(timeout=30)


@contextmanager
def running_app(base: Path, *, env: dict[str, str] | None = None) -> Iterator[AppProcess]:
    """An app on a new index in ``base`` (log in ``base/app.log``), stopped on exit."""
    app = AppProcess(base / "index", base / "app.log", env=env).start()
    try:
        yield app
    finally:
        app.stop()


def app_client(app: AppProcess, auth: tuple[str, str] | None = None) -> Any:
    """A gradio_client.Client of the running app (logged in with ``auth``)."""
    from gradio_client import Client

    return Client(app.url, auth=auth, verbose=False)


def login_cookies(url: str, user: str, password: str) -> Any:
    """The cookies of a Gradio login (POST /login), as httpx.Cookies."""
    import httpx

    response = httpx.post(url.rstrip("/") + "/login", data={"username": user, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return response.cookies


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it as root: apt-get install chromium)")
    return path


def browser_login(page: Any, url: str, user: str, password: str) -> None:
    """Log in through Gradio's login form and wait for the chat box."""
    page.goto(url)
    page.locator("input").nth(0).fill(user)
    page.locator("input[type=password]").fill(password)
    page.keyboard.press("Enter")
    page.locator("#question textarea").wait_for(timeout=60000)
