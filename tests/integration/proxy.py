"""A TCP proxy on 127.0.0.1 that can hold, forward or cut a connection: to test sends whose outcome is unknown."""

from __future__ import annotations

import socket
import threading
import time


class CuttingProxy:
    """Forwards to `target_port`. Modes: 'pass' (plain proxy), 'cut_after_forward' (the request reaches the
    server, the answer never reaches the client), 'cut_before_forward' (the connection drops before the
    request is forwarded), 'hold' (requests wait until the mode changes)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode = "pass"
        self.forwarded = 0
        self.stall_s = 2.0
        self._armed: list[tuple[bytes, str]] = []  # one-shot faults for the next request with that method
        self._lock = threading.Lock()
        self._busy = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, fault: str, method: str = "POST") -> None:
        """The next `method` request meets `fault` (then 'pass' again): a `mode`, or 'stall_before' (held past the
        client's timeout, then dropped unsent), 'stall_after' (sent, the answer held past the timeout, dropped),
        'http_429' / 'http_503' (answered by the proxy, unsent), 'http_502_after' (sent, then a 502 instead)."""
        with self._lock:
            self._armed.append((method.encode(), fault))

    def disarm(self) -> None:
        with self._lock:
            self._armed.clear()

    @property
    def busy(self) -> int:
        """Connections being served now."""
        with self._lock:
            return self._busy

    def idle(self, timeout: float = 30.0) -> bool:
        """Wait until no connection is being served (a stalled one has finished, whatever it forwarded landed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.busy:
                return True
            time.sleep(0.02)
        return False

    def _fault_for(self, request: bytes) -> str:
        with self._lock:
            for i, (method, fault) in enumerate(self._armed):
                if request.startswith(method + b" "):
                    del self._armed[i]
                    return fault
        return self.mode

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._busy += 1
        try:
            with client:
                self._relay(client)
        except OSError:
            pass  # the client gave up first (its timeout): what was forwarded stays forwarded
        finally:
            with self._lock:
                self._busy -= 1

    def _relay(self, client: socket.socket) -> None:
        request = _read_request(client)
        fault = self._fault_for(request)
        while fault == "hold" and self.mode == "hold":
            time.sleep(0.05)
        if fault in ("cut_before_forward", "stall_before"):
            if fault == "stall_before":
                time.sleep(self.stall_s)
            return
        if fault in ("http_429", "http_503"):
            status = b"429 Too Many Requests\r\nRetry-After: 0" if fault == "http_429" else b"503 Service Unavailable"
            client.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=60)
        except OSError:
            return  # the server is down: the client sees the connection close
        with upstream:
            upstream.sendall(request)
            self.forwarded += 1
            upstream.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
        if fault == "stall_after":
            time.sleep(self.stall_s)
        if fault in ("cut_after_forward", "stall_after"):
            return
        if fault == "http_502_after":
            answer = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        client.sendall(answer)


def _read_request(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    # One request per connection: ask the server to close, so reading its answer ends.
    head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:"))
    return head + b"\r\nConnection: close\r\n\r\n" + body
