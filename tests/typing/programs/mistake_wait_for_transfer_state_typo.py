"""A misspelt transfer state to wait for: it would never be reached, so the wait would last its timeout."""

from wise_async import WiseClient


async def main(wise: WiseClient) -> None:
    await wise.transfer_states.wait_for_transfer(1, until="outgoing_payment_snt", timeout=1)  # mistake
