"""The model client through litellm's real HTTP path, against a real OpenAI-compatible server with faults."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from copilot.llm.catalog import Provider, ResolvedModel, resolve
from copilot.llm.client import Attempt, ModelCallError, ModelClient
from tests.llm_server import LLMServer, Reply, serving

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with serving() as s:
        yield s


def _model(server: LLMServer, name: str = "primary") -> ResolvedModel:
    providers = {"local": Provider("local", "openai_compatible", "Local test server", server.api_base)}
    resolved = resolve(f"local/{name}", providers)
    assert resolved is not None
    return resolved


def _client(**kw: float) -> ModelClient:
    return ModelClient(lambda pid: "sk-test", timeout_s=kw.pop("timeout_s", 5.0), max_backoff_s=0.2, **kw)


async def test_streaming_delivers_pieces_and_timing(server: LLMServer) -> None:
    server.script = [Reply("Hello there, how can I help today?", chunk_delay_s=0.02)]
    pieces: list[str] = []
    done = await _client().complete([_model(server)], MESSAGES, on_delta=pieces.append)
    assert "".join(pieces) == done.text == "Hello there, how can I help today?"
    assert len(pieces) == 7 and done.ttft_ms is not None and done.ttft_ms < done.latency_ms
    assert done.tokens_in > 0 and done.tokens_out > 0 and done.cost_usd == 0.0  # own server: free
    assert server.requests[0]["_auth"] == "Bearer sk-test" and server.requests[0]["stream"] is True


async def test_bad_key_is_not_retried_and_the_next_model_answers(server: LLMServer) -> None:
    server.script = [Reply(status=401), Reply("from the backup")]
    attempts: list[Attempt] = []

    async def log(a: Attempt) -> None:
        attempts.append(a)

    done = await _client().complete([_model(server), _model(server, "backup")], MESSAGES, on_attempt=log)
    assert done.text == "from the backup" and done.model == "local/backup"
    assert [a.outcome for a in attempts] == [
        "bad_key",
        "ok",
    ] and "Local test server refused the API key: check the key stored for it" in done.notes[0]


async def test_rate_limit_honours_retry_after(server: LLMServer) -> None:
    server.script = [Reply(status=429, headers={"Retry-After": "1"}), Reply("after waiting")]
    started = time.perf_counter()
    done = await _client().complete([_model(server)], MESSAGES)
    assert done.text == "after waiting" and time.perf_counter() - started >= 1.0


async def test_a_long_retry_after_moves_on_to_the_next_model(server: LLMServer) -> None:
    server.script = [Reply(status=429, headers={"Retry-After": "600"}), Reply("backup")]
    done = await _client().complete([_model(server), _model(server, "b")], MESSAGES)
    assert done.model == "local/b" and "wait 600 s" in done.notes[0]


@pytest.mark.parametrize(
    "fault",
    [
        Reply(status=500),
        Reply(malformed=True),
        Reply("one two three four", truncate_stream=True),
        Reply("late", first_byte_delay_s=2.5),
    ],
    ids=["5xx", "malformed-json", "truncated-stream", "timeout"],
)
async def test_transient_faults_are_retried_with_capped_backoff(server: LLMServer, fault: Reply) -> None:
    server.script = [fault, Reply("recovered fine")]
    done = await _client(timeout_s=1.5).complete([_model(server)], MESSAGES, on_delta=lambda piece: None)
    assert done.text == "recovered fine" and len(server.requests) == 2


async def test_slow_first_byte_within_the_timeout_is_fine(server: LLMServer) -> None:
    server.script = [Reply("slow but fine", first_byte_delay_s=0.8)]
    done = await _client(timeout_s=5).complete([_model(server)], MESSAGES, on_delta=lambda piece: None)
    assert done.text == "slow but fine" and done.ttft_ms is not None and done.ttft_ms >= 700


async def test_context_too_long_trims_once(server: LLMServer) -> None:
    too_long = {
        "error": {
            "message": "This model's maximum context length is 4096 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    server.script = [Reply(status=400, error_body=too_long), Reply("short enough now")]
    shortened: list[int] = []

    def shorten(messages: list[dict[str, str]]) -> list[dict[str, str]]:
        shortened.append(len(messages))
        return messages[-1:]

    done = await _client().complete([_model(server)], MESSAGES, shorten=shorten)
    assert done.text == "short enough now" and shortened == [2] and len(server.requests[1]["messages"]) == 1


async def test_when_every_model_fails_the_error_says_what_happened(server: LLMServer) -> None:
    server.script = [Reply(status=401), Reply(status=401)]
    with pytest.raises(ModelCallError) as failed:
        await _client().complete([_model(server), _model(server, "b")], MESSAGES)
    assert "check the key" in failed.value.message and "built-in" in failed.value.hint


async def test_a_missing_key_for_a_cloud_provider_is_said_plainly() -> None:
    cloud = resolve("openai/gpt-4o-mini", {"openai": Provider("openai", "openai", "OpenAI")})
    assert cloud is not None
    with pytest.raises(ModelCallError, match="No API key is stored for OpenAI"):
        await ModelClient(lambda pid: "").complete([cloud], MESSAGES)


async def test_nothing_is_fetched_from_the_internet(server: LLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """litellm's cost callback would download a Hugging Face tokenizer for llama-3 names: it must not."""
    import socket

    real = socket.getaddrinfo
    asked: list[str] = []

    def only_local(host: str, *args: object, **kwargs: object) -> object:
        asked.append(str(host))
        if host not in ("127.0.0.1", "localhost"):
            raise OSError(f"test: no network to {host}")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", only_local)
    server.script = [Reply("hello from llama")]
    model = _model(server, "llama-3.3-70b-instruct")
    done = await _client().complete([model], MESSAGES, on_delta=lambda piece: None)
    assert done.text == "hello from llama" and set(asked) <= {"127.0.0.1", "localhost"}


async def test_a_closed_port_is_said_to_be_unreachable_with_its_address() -> None:
    """litellm reports a refused connection as an InternalServerError ("Connection error."): the note must say
    the endpoint cannot be reached, and where, not that it "had an error"."""
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/v1"
    model = resolve("local/m", {"local": Provider("local", "openai_compatible", "Local test server", base)})
    assert model is not None
    attempts: list[Attempt] = []

    async def log(a: Attempt) -> None:
        attempts.append(a)

    with pytest.raises(ModelCallError) as failed:
        await _client().complete([model], MESSAGES, on_attempt=log)
    assert f"Local test server cannot be reached at {base}." in failed.value.message
    assert {a.outcome for a in attempts} == {"unreachable"}
