"""A user's script, run from outside the checkout against the installed wheel by ``check_wheel.py``.

It serves FakeWise on a loopback port and calls it through the SDK; ``mypy --strict`` must accept it and
reveal the SDK's real types (each ``reveal_type`` below is read by ``check_wheel.py``: none may be
``Any``).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

from wise_api.models import QuoteCreateBody

from wise_async import WiseClient, WiseError
from wise_async.testing import FakeWise, serve_asgi


async def main() -> None:
    fake = FakeWise()
    async with (
        serve_asgi(fake.asgi_app) as server,
        WiseClient(personal_token=fake.add_personal_token(), base_url=server.base_url) as wise,
    ):
        profiles = await wise.profiles.list()
        quote = await wise.quotes.create(
            fake.personal_profile_id,
            body=QuoteCreateBody(source_currency="GBP", target_currency="EUR", source_amount=Decimal("100")),
        )
        try:
            await wise.transfers.get(1)
        except WiseError as error:
            failure = error
        if TYPE_CHECKING:
            reveal_type(profiles)  # noqa: F821
            reveal_type(profiles[0].id)  # noqa: F821
            reveal_type(quote)  # noqa: F821
            reveal_type(quote.rate)  # noqa: F821
            reveal_type(failure)  # noqa: F821
    print(f"user app: {len(profiles)} profiles, quote {quote.id} at {quote.rate}, {type(failure).__name__}")


if __name__ == "__main__":
    asyncio.run(main())
