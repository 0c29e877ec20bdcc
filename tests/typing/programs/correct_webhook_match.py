"""README: Webhooks — the match narrows to the event's typed fields."""

from wise_async.webhooks import TransfersStateChangeData, WebhookEvent


async def on_transfer_state(transfer_id: int, state: str) -> None:
    print(transfer_id, state)


async def receive(event: WebhookEvent) -> dict[str, bool]:
    match event.typed_data:  # by (event_type, schema_version); UnknownEventData otherwise
        case TransfersStateChangeData(current_state=str() as state, resource=resource) if resource:
            if resource.id is not None:
                await on_transfer_state(resource.id, state)
        case _:  # other events, and UnknownEventData for types or versions the spec does not list
            pass
    return {"ok": True}
