"""with_raw_response gives status, headers and the parsed model."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    response = await wise.profiles.with_raw_response.list(timeout=5)
    print(response.status_code, response.headers.get("x-trace-id"), len(response.parsed))
