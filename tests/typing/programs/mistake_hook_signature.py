"""A call hook that leaves out an argument the SDK passes: it would fail after the request was sent."""

from wise_async import CallInfo, Hooks


class Timing(Hooks):
    async def after_attempt(self, call: CallInfo) -> None:  # mistake
        print(call.operation_id)
