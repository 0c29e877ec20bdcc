"""A misspelled field in the webhook match."""

from wise_async.webhooks import TransfersStateChangeData, WebhookEvent


def handle(event: WebhookEvent) -> str | None:
    match event.typed_data:
        case TransfersStateChangeData(current_stat=_):  # mistake
            return "seen"
        case _:
            return None
