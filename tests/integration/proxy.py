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
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

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
        with client:
            try:
                request = _read_request(client)
            except OSError:
                return
            while self.mode == "hold":
                time.sleep(0.05)
            if self.mode == "cut_before_forward":
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
            if self.mode == "cut_after_forward":
                return
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
