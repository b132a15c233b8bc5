"""A real agentguard sidecar for the tests (``node bin/run.js sidecar start``), and small fake servers.

One sidecar serves every test module of a run: it is started on first use, on a free port with a temporary data
folder and tokens, and stopped (and its folder removed) when the run ends.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
POLICY = Path(__file__).resolve().parent / "policy.yaml"
CLI = [os.environ.get("AGENTGUARD_NODE", "node"), str(ROOT / "bin" / "run.js")]


def cli(*args: str, timeout: float = 120) -> str:
    """Runs the agentguard CLI; returns stdout, raises with stderr when it fails."""
    done = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, "NO_COLOR": "1"})
    if done.returncode != 0:
        raise RuntimeError(f"agentguard {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[:2000]}")
    return done.stdout


@dataclass
class Sidecar:
    url: str
    pid: int
    data_dir: str
    folder: str
    agent_token: str
    admin_token: str

    def audit(self, *flags: str) -> List[Dict[str, Any]]:
        """``agentguard audit query --json``'s records."""
        out = json.loads(cli("audit", "query", "--json", "--data-dir", self.data_dir, "--limit", "1000", *flags))
        records = out["records"] if isinstance(out, dict) else out
        return list(records)

    def admin(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"authorization": f"Bearer {self.admin_token}", **({"content-type": "application/json"} if body is not None else {})},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else None

    def stop(self) -> None:
        try:
            cli("sidecar", "stop", "--data-dir", self.data_dir, timeout=60)
        except Exception:  # noqa: BLE001 - fall back to the pid we started
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


_shared: Optional[Sidecar] = None
_lock = threading.Lock()


def sidecar() -> Sidecar:
    """The run's sidecar, started on first use."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = _start()
            atexit.register(_shared.stop)
        return _shared


def _start() -> Sidecar:
    folder = tempfile.mkdtemp(prefix="ag-py-")
    data_dir = os.path.join(folder, "data")
    policy = os.path.join(folder, "policy.yaml")
    shutil.copyfile(POLICY, policy)
    try:
        agent = json.loads(cli("token", "create", "--agent", "py-bot", "--json", "--data-dir", data_dir))["token"]
        admin = json.loads(cli("token", "create", "--admin", "--json", "--data-dir", data_dir))["token"]
        started = json.loads(cli("sidecar", "start", "--detach", "--port", "0", "--policy", policy, "--data-dir", data_dir, "--json"))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Sidecar(url=started["url"], pid=int(started["pid"]), data_dir=data_dir, folder=folder, agent_token=agent, admin_token=admin)


def closed_port_url() -> str:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class RawServer:
    """A throwaway TCP server on 127.0.0.1 that answers each connection with ``respond(request_bytes, conn)``."""

    def __init__(self, respond: Callable[[bytes, socket.socket], None]) -> None:
        self._respond = respond
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.requests: List[bytes] = []
        self._conns: List[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._conns.append(conn)
            data = b""
            conn.settimeout(5)
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                        while len(body) < length:
                            body += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + body)
                self._respond(head + b"\r\n\r\n" + body, conn)
            except OSError:
                pass

    def close(self) -> None:
        self._stopped.set()
        try:
            # Wakes the accept() blocked in the server thread (closing alone does not on Linux).
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._server.close()
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass
        self._thread.join(timeout=5)


def http_answer(status: int, body: bytes, headers: Optional[Dict[str, str]] = None, close: bool = True) -> Callable[[bytes, socket.socket], None]:
    """A respond() that sends one HTTP answer (and closes the connection unless told not to)."""

    def respond(_request: bytes, conn: socket.socket) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Content-Type: application/json", *(f"{k}: {v}" for k, v in (headers or {}).items())]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        if close:
            conn.close()

    return respond


def decision_json(request: bytes, **overrides: Any) -> bytes:
    """A valid Decision for the action of a /v1/decide request."""
    action = json.loads(request.partition(b"\r\n\r\n")[2])["action"]
    decision = {"id": "dec_0123", "effect": "allow", "action": action, "reasons": [{"rule": "r", "effect": "allow", "message": "ok"}], "findings": [], "policy": {"name": "p", "hash": "h"}, "elapsedUs": 3}
    decision.update(overrides)
    return json.dumps(decision).encode()
