"""A misspelled attribute of a webhook's resource."""

from wise_async.webhooks import TransfersStateChangeData, WebhookEvent


def handle(event: WebhookEvent) -> int | None:
    match event.typed_data:
        case TransfersStateChangeData(resource=resource) if resource is not None:
            return resource.idd  # mistake
        case _:
            return None
