"""Operation paths as the generated bundle gives them, for tests that name a path.

A new spec may move operations (``/v1/transfers`` → ``/2026Q4/transfers``); tests that build or check
paths ask the operation table instead of spelling a version, so they follow the spec the client was
generated from.
"""

from __future__ import annotations

import re

from wise_async._operations import default_table


def path_of(operation_id: str, **params: object) -> str:
    """``path_of("transferGet", transferId=7)`` → ``/v1/transfers/7`` (or wherever the bundle has it)."""
    template = default_table().by_id(operation_id).path
    return re.sub(r"\{([^}]+)\}", lambda found: str(params.get(found.group(1), found.group(0))), template)
