"""A private Request Tracker 5 server for integration tests and benchmarks (Debian's request-tracker5 package).

Everything lives under one folder: config, SQLite database, logs and outgoing mail. The server binds to
127.0.0.1 only. Install the packages with `.ci/run` (or see tests/integration/README.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

RT_LIB = Path("/usr/share/request-tracker5")
RT_SERVER = RT_LIB / "libexec" / "rt-server"
SETUP_DATABASE = Path("/usr/sbin/rt-setup-database-5")
HERE = Path(__file__).parent / "rt"
AGENT, AGENT_PASSWORD = "agent1", "agentpass1"


def rt_installed() -> bool:
    return RT_SERVER.exists() and SETUP_DATABASE.exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RTServer:
    def __init__(self, root: Path, port: int | None = None, workers: int = 2) -> None:
        self.root = root
        self.port = port or free_port()
        self.workers = workers
        self.token = ""
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RT_SITE_CONFIG": str(self.root / "etc" / "RT_SiteConfig.pm"),
            "RT_SITE_CONFIG_DIR": str(self.root / "etc" / "RT_SiteConfig.d"),
        }

    def _fill(self, name: str, target: Path) -> None:
        text = (HERE / name).read_text().replace("@DIR@", str(self.root)).replace("@PORT@", str(self.port))
        target.write_text(text)

    def _perl(self, script: str, *args: str) -> str:
        out = subprocess.run(
            ["perl", str(HERE / script), *args], env=self.env, capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"{script} failed: {out.stderr[-2000:]}")
        return out.stdout.strip()

    def setup(self) -> None:
        """A fresh instance: schema, core data, fixtures and an API token for the agent (about 7 s)."""
        for sub in ("etc/RT_SiteConfig.d", "var/outgoing", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._fill("RT_SiteConfig.pm.in", self.root / "etc" / "RT_SiteConfig.pm")
        (self.root / "etc" / "RT_SiteConfig.d" / "00-empty.pm").write_text("1;\n")
        sendmail = self.root / "fake-sendmail.sh"
        self._fill("fake-sendmail.sh.in", sendmail)
        sendmail.chmod(0o755)
        (self.root / "etc" / "root-password").write_text("rtpass123\n")
        db = self.root / "var" / "rtdb"
        db.unlink(missing_ok=True)
        steps = [
            [str(SETUP_DATABASE), "--action", "init", "--skip-create", "--root-password-file",
             str(self.root / "etc" / "root-password")],
            [str(SETUP_DATABASE), "--action", "insert", "--datafile", str(HERE / "fixtures.pl")],
        ]  # fmt: skip
        for cmd in steps:
            out = subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd[:3])} failed: {out.stdout[-1500:]}{out.stderr[-1500:]}")
        self.token = self._perl("mk-token.pl", AGENT)
        shutil.copy(db, db.with_suffix(".pristine"))

    def seed_tickets(self, count: int) -> None:
        self._perl("seed-tickets.pl", str(count))

    def change_tickets(self, count: int) -> None:
        self._perl("change-tickets.pl", str(count))

    def customer_writes(self, ticket: int, email: str, text: str) -> None:
        self._perl("as-customer.pl", str(ticket), email, text)

    def api(self) -> httpx.Client:
        """A superuser REST client for arranging test data (the connector under test uses the agent's token)."""
        return httpx.Client(base_url=f"{self.url}/REST/2.0", auth=("root", "rtpass123"), timeout=30)

    def start(self, timeout: float = 60.0) -> None:
        with (self.root / "log" / "server.out").open("ab") as log:  # the child keeps its own copy
            self._proc = subprocess.Popen(
                [str(RT_SERVER), "--host", "127.0.0.1", "--port", str(self.port), "--max-workers", str(self.workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"rt-server exited with {self._proc.returncode}; see {self.root}/log")
            try:
                if httpx.get(f"{self.url}/REST/2.0/rt", timeout=2).status_code in (200, 401):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"rt-server did not answer within {timeout} s")

    def stop(self) -> None:
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGTERM)
            self._proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def reset(self) -> None:
        """Back to the freshly set-up database (milliseconds, plus a restart)."""
        was_running = self.running
        self.stop()
        db = self.root / "var" / "rtdb"
        shutil.copy(db.with_suffix(".pristine"), db)
        for mail in (self.root / "var" / "outgoing").glob("*.eml"):
            mail.unlink()
        if was_running:
            self.start()

    def outgoing_mail(self) -> list[str]:
        return [p.read_text(errors="replace") for p in sorted((self.root / "var" / "outgoing").glob("*.eml"))]
