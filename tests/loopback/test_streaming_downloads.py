"""Streaming downloads: a 50 MB statement to a file with bounded memory, restarted after a lost connection."""

from __future__ import annotations

import contextlib
import datetime
import socketserver
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from bundle_paths import path_of

from wise_async import APIConnectionError, NotFoundError, RetryPolicy, WiseClient

from .servers import serve_sockets

SIZE = 50 * 1024 * 1024
CHUNK = bytes(range(256)) * 256  # 64 KiB, written over and over: the server allocates nothing per chunk
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
END = datetime.datetime(2026, 3, 31, tzinfo=datetime.timezone.utc)


class StatementServer:
    """Serves a SIZE-byte PDF for any statement path; ``cut_first`` connections stop after 10 MB."""

    def __init__(self) -> None:
        self.cut_first = 0
        self.requests: list[str] = []
        self.url = ""

    def handle(self, handler: socketserver.StreamRequestHandler) -> None:
        line = handler.rfile.readline(65537).decode("latin-1")
        while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass
        self.requests.append(line.split(" ")[1])
        if "statement" not in line:
            handler.wfile.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            return
        cut = len(self.requests) <= self.cut_first
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/pdf\r\ncontent-length: {SIZE}\r\n"
        handler.wfile.write((head + "connection: close\r\n\r\n").encode())
        sent = 0
        with contextlib.suppress(OSError):
            while sent < SIZE:
                if cut and sent >= 10 * 1024 * 1024:
                    return  # connection dropped mid-body
                handler.wfile.write(CHUNK[: min(len(CHUNK), SIZE - sent)])
                sent += len(CHUNK)


@pytest.fixture
def statement_server() -> Iterator[StatementServer]:
    served = StatementServer()
    with serve_sockets(served.handle) as url:
        served.url = url
        yield served


def _client(server: StatementServer, **kwargs: object) -> WiseClient:
    policy = RetryPolicy(max_retries=2, initial_delay=0.0, max_delay=0.0)
    return WiseClient(personal_token="t" * 20, base_url=server.url, retry_policy=policy, **kwargs)  # type: ignore[arg-type]


async def test_a_50_mb_statement_streams_to_a_file_with_bounded_memory(
    statement_server: StatementServer, tmp_path: Path
) -> None:
    statement_server.cut_first = 1  # the first connection dies at 10 MB: the file starts again
    target = tmp_path / "statement.pdf"
    async with _client(statement_server) as wise:
        tracemalloc.start()
        try:
            written = await wise.statements.download(
                7, 3, currency="EUR", start=START, end=END, format="pdf", to=target
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert written == target and target.stat().st_size == SIZE
    with target.open("rb") as file:
        assert file.read(len(CHUNK)) == CHUNK
    assert not (tmp_path / "statement.pdf.part").exists()
    assert len(statement_server.requests) == 2 and statement_server.requests[0].split("?")[0].endswith(
        "/statement.pdf"
    )
    print(f"\n50 MB statement streamed (one restart): peak traced memory {peak / 1024 / 1024:.1f} MiB")
    assert peak < 8 * 1024 * 1024


async def test_a_download_that_keeps_failing_leaves_no_file_and_says_why(
    statement_server: StatementServer, tmp_path: Path
) -> None:
    statement_server.cut_first = 10
    target = tmp_path / "statement.pdf"
    async with _client(statement_server) as wise:
        with pytest.raises(APIConnectionError, match=r"server broke|connection lost"):
            await wise.statements.download(7, 3, currency="EUR", start=START, end=END, to=target)
    assert len(statement_server.requests) == 3  # the first try and two restarts
    assert not target.exists() and not (tmp_path / "statement.pdf.part").exists()


async def test_a_receipt_download_answered_404_is_a_typed_error(
    statement_server: StatementServer, tmp_path: Path
) -> None:
    async with _client(statement_server) as wise:
        with pytest.raises(NotFoundError):
            await wise.files.transfer_receipt(11, to=tmp_path / "receipt.pdf")
    assert statement_server.requests == [path_of("transferReceiptGet", transferId=11)]
    assert not (tmp_path / "receipt.pdf").exists()


async def test_helpers_take_the_per_call_options(statement_server: StatementServer, tmp_path: Path) -> None:
    statement_server.cut_first = 10
    async with _client(statement_server) as wise:
        with pytest.raises(APIConnectionError):
            await wise.statements.download(
                7, 3, currency="EUR", start=START, end=END, to=tmp_path / "s.pdf", max_retries=0
            )
        assert len(statement_server.requests) == 1  # max_retries=0: no restart
        with pytest.raises(NotFoundError):
            await wise.files.noc(11, extra_headers={"X-Trace": "t"}, max_retries=0)
