"""Streaming a binary answer (statement, receipt, PDF) to a file with bounded memory.

The request goes through the same stack as any call — auth, refresh, SCA, the retrying transport for
connection failures and 429/5xx — but its body is left unread there and copied to ``<to>.part`` chunk
by chunk, then renamed to ``to``. A connection lost mid-body restarts the file under the retry rules
(downloads are GETs); the size cap applies to the bytes written. Downloads ask for ``identity``
encoding; a server that compresses anyway is decoded chunk by chunk.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from ._body import read_bounded
from ._exceptions import ResponseTooLargeError, make_status_error
from ._options import MAX_RETRIES_EXTENSION
from ._redaction import get_logger
from ._retry import RetryPolicy, compute_delay
from ._transport import STREAM_EXTENSION, connection_error, describe_transport_error

if TYPE_CHECKING:
    PathLike = str | os.PathLike[str]

logger = get_logger("download")


async def download_to(
    http: httpx.AsyncClient,
    request_kwargs: Mapping[str, Any],
    *,
    to: PathLike,
    policy: RetryPolicy,
    max_bytes: int,
) -> Path:
    """Send the prepared request and stream its 2xx body into ``to``; return the path written."""
    target = Path(to)
    partial = target.with_name(target.name + ".part")
    kwargs = dict(request_kwargs)
    headers = httpx.Headers(kwargs.get("headers") or {})
    headers["Accept-Encoding"] = "identity"
    kwargs["headers"] = headers
    extensions = {**(kwargs.get("extensions") or {}), STREAM_EXTENSION: True}
    kwargs["extensions"] = extensions
    retries = extensions.get(MAX_RETRIES_EXTENSION, policy.max_retries)
    attempt = 0
    while True:
        request = http.build_request(**kwargs)
        response = await http.send(request, stream=True)
        try:
            if not response.is_success:
                await read_bounded(response, max_bytes, request)
                raise make_status_error(response)
            written = await _copy(response, partial, max_bytes, request)
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if attempt >= retries:
                await _discard(partial)
                raise connection_error(exc, request) from exc
            delay = compute_delay(policy, attempt, None, random.random)
            logger.info(
                "%s while downloading %s; restarting the file (retry %d in %.2fs)",
                describe_transport_error(exc),
                request.url.path,
                attempt + 1,
                delay,
            )
            attempt += 1
            await anyio.sleep(delay)
            continue
        except BaseException:
            await _discard(partial)
            raise
        finally:
            await response.aclose()
        await anyio.Path(partial).replace(target)
        logger.debug("downloaded %d bytes from %s", written, request.url.path)
        return target


async def _copy(response: httpx.Response, partial: Path, max_bytes: int, request: httpx.Request) -> int:
    written = 0
    async with await anyio.open_file(partial, "wb") as file:
        async for chunk in response.aiter_bytes():  # decoded; also serves a body already read in memory
            written += len(chunk)
            if written > max_bytes:
                raise ResponseTooLargeError(max_bytes, request=request)
            await file.write(chunk)
    return written


async def _discard(partial: Path) -> None:
    await anyio.Path(partial).unlink(missing_ok=True)
