"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: scripted answers, streaming, and faults.

The app reaches it through litellm's real HTTP path (`openai/<model>` with `api_base`); nothing is patched.
Each request takes the next scripted `Reply` (or the default responder when the script is empty).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    first_byte_delay_s: float = 0.0  # slow first byte (or, longer than the client's timeout, a timeout)
    chunk_delay_s: float = 0.0
    malformed: bool = False  # 200 with a body that is not JSON
    truncate_stream: bool = False  # close the stream half-way, without [DONE]
    error_body: dict[str, Any] | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class LLMServer:
    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.first_byte_at: list[
            float
        ] = []  # when each answer's first byte was written (time.time(): comparable across processes)
        self.responder: Callable[[dict[str, Any]], str] = lambda body: "OK"
        self.chunk_delay_s = 0.0  # for answers from the responder
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                body["_auth"] = self.headers.get("Authorization", "")
                server.requests.append(body)
                embeddings = self.path.rstrip("/").endswith("/embeddings")
                if server.script:
                    reply = server.script.pop(0)
                else:
                    text = "" if embeddings else server.responder(body)
                    reply = Reply(text, chunk_delay_s=server.chunk_delay_s)
                if reply.first_byte_delay_s:
                    time.sleep(reply.first_byte_delay_s)
                if reply.status != 200:
                    payload = reply.error_body or {
                        "error": {"message": f"scripted {reply.status}", "type": "error", "code": reply.status}
                    }
                    self._json(reply.status, payload, reply.headers)
                    return
                if reply.malformed:
                    self._raw(200, b'{"id": "x", "choices": [ this is not json', "application/json")
                    return
                if embeddings:
                    inputs = body.get("input", [])
                    inputs = [inputs] if isinstance(inputs, str) else inputs
                    data = [
                        {"object": "embedding", "index": i, "embedding": bag_of_words(text)}
                        for i, text in enumerate(inputs)
                    ]
                    usage = {"prompt_tokens": sum(_words(t) for t in inputs), "total_tokens": 0}
                    self._json(200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage})
                    return
                if body.get("stream"):
                    self._stream(body, reply)
                    return
                prompt = reply.prompt_tokens if reply.prompt_tokens is not None else _count(body)
                completion = (
                    reply.completion_tokens if reply.completion_tokens is not None else max(1, len(reply.text.split()))
                )
                self._json(
                    200,
                    {
                        "id": f"cmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "test-model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": completion,
                            "total_tokens": prompt + completion,
                        },
                    },
                )

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                words = reply.text.split(" ")
                pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
                if reply.truncate_stream:
                    pieces = pieces[: max(1, len(pieces) // 2)]
                for i, piece in enumerate(pieces):
                    chunk = {
                        "id": "chunk",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": body.get("model", "test-model"),
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"content": piece} if i else {"role": "assistant", "content": piece},
                                "finish_reason": None,
                            }
                        ],
                    }
                    if i == 0:
                        server.first_byte_at.append(time.time())
                    self._write(f"data: {json.dumps(chunk)}\n\n".encode())
                    if reply.chunk_delay_s:
                        time.sleep(reply.chunk_delay_s)
                if reply.truncate_stream:
                    self.close_connection = True
                    return
                prompt = _count(body)
                done = {
                    "id": "chunk",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": body.get("model", "test-model"),
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": len(pieces),
                        "total_tokens": prompt + len(pieces),
                    },
                }
                self._write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.close_connection = True

            def _write(self, data: bytes) -> None:
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:
                    pass

            def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                self._raw(status, json.dumps(payload).encode(), "application/json", headers)

            def _raw(self, status: int, data: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
                server.first_byte_at.append(time.time())
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self._write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def serving(responder: Callable[[dict[str, Any]], str] | None = None) -> Iterator[LLMServer]:
    """A server answering with `responder` (each request's body -> the answer's text) while the block runs."""
    server = LLMServer()
    if responder is not None:
        server.responder = responder
    try:
        yield server
    finally:
        server.close()


EMBEDDING_SIZE = 64


def _words(text: str) -> int:
    return len(str(text).split())


def bag_of_words(text: str) -> list[float]:
    """A deterministic stand-in for an embedding model: each word adds to one hashed dimension, so texts that
    share words are similar (crc32, not hash(): the same vector in every process)."""
    vector = [0.0] * EMBEDDING_SIZE
    for word in re.findall(r"[a-z]{4,}", str(text).lower()):  # short words carry little meaning
        vector[zlib.crc32(word.encode()) % EMBEDDING_SIZE] += 1.0
    return vector if any(vector) else [1.0] + [0.0] * (EMBEDDING_SIZE - 1)


def _count(body: dict[str, Any]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in body.get("messages", [])) or 1


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
