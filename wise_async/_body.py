"""Reading a response body completely, with a cap on its decompressed size.

gzip and deflate are inflated here, never more than the remaining budget per step (a 64 KiB gzip
bomb cannot become 64 MiB in memory); other encodings go through httpx's decoders and are checked
after each decoded chunk. The result is stored as the response's ``content``, as ``aread()`` would.
"""

from __future__ import annotations

import zlib

import httpx

from ._exceptions import ResponseTooLargeError

DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
"""256 MiB decompressed: above the largest statements (469 days of JSON) and PDFs Wise serves."""

_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class _Inflater:
    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._inflater = zlib.decompressobj(_WBITS[encoding])
        self._started = False

    def inflate(self, data: bytes, budget: int) -> bytes:
        """Up to ``budget + 1`` bytes of output: one byte more than allowed means "too large"."""
        try:
            out = self._inflater.decompress(data, budget + 1)
        except zlib.error as exc:
            if self._encoding == "deflate" and not self._started:
                # Some servers send raw deflate without the zlib wrapper.
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                return self.inflate(data, budget)
            raise httpx.DecodingError(f"invalid {self._encoding} body: {exc}") from None
        self._started = True
        return out

    def flush(self) -> bytes:
        try:
            rest = self._inflater.flush()
        except zlib.error as exc:
            raise httpx.DecodingError(f"invalid {self._encoding} body: {exc}") from None
        if self._started and not self._inflater.eof:
            raise httpx.DecodingError(f"truncated or corrupt {self._encoding} body")
        return rest


async def read_bounded(response: httpx.Response, limit: int, request: httpx.Request) -> bytes:
    """Read and decode all of ``response``'s body (at most ``limit`` bytes); return it.

    Raises :class:`ResponseTooLargeError` past the limit, ``httpx.DecodingError`` for a corrupt
    encoding, and httpx transport errors when the connection fails mid-body.
    """
    content: bytes | None = getattr(response, "_content", None)
    if content is not None:  # already read (an in-process transport, a short body, or read once before)
        if len(content) > limit:
            raise ResponseTooLargeError(limit, request=request)
        if not response.is_closed:
            await response.aclose()
        return content
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    chunks: list[bytes] = []
    total = 0

    def add(chunk: bytes) -> None:
        nonlocal total
        total += len(chunk)
        if total > limit:
            raise ResponseTooLargeError(limit, request=request)
        chunks.append(chunk)

    if encoding in _WBITS:
        inflater = _Inflater(encoding)
        async for raw in response.aiter_raw():
            add(inflater.inflate(raw, limit - total))
        add(inflater.flush())
    elif encoding in ("identity", ""):
        async for raw in response.aiter_raw():
            add(raw)
    else:  # br, zstd, stacked encodings: httpx's decoders, checked per decoded chunk
        async for decoded in response.aiter_bytes():
            add(decoded)
    content = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    response._content = content  # what ``aread()`` stores; ``response.content`` serves it from now on
    return content
