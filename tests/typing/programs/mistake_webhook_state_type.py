"""A webhook state treated as an int."""

from wise_async.webhooks import TransfersStateChangeData, WebhookEvent


def handle(event: WebhookEvent) -> int:
    match event.typed_data:
        case TransfersStateChangeData(current_state=str() as state):
            return state + 1  # mistake
        case _:
            return 0
