"""FakeWise's webhook deliveries come from the spec: every event and schema version it describes, each
checked against the spec's schema and parsed by the SDK into its typed model."""

from __future__ import annotations

import pytest
from wise_api.webhook_events import EVENT_CLASSES, EVENTS

from wise_async.testing import FakeWise
from wise_async.testing._schema import validate
from wise_async.webhooks import UnknownEventData, construct_event

DESCRIBED = sorted(EVENTS)


def test_the_fake_knows_every_event_the_spec_describes() -> None:
    fake = FakeWise()
    assert {(e, v) for e, versions in fake.webhooks.events.items() for v in versions} == set(EVENTS)


@pytest.mark.parametrize(("event_type", "version"), DESCRIBED, ids=lambda v: v)
def test_every_described_event_is_delivered_signed_and_parses_as_its_typed_model(
    event_type: str, version: str
) -> None:
    fake = FakeWise()
    delivery = fake.webhooks.delivery(event_type, schema_version=version)
    event = construct_event(delivery.body, delivery.headers, public_keys=[fake.webhooks.public_key_b64])
    assert (event.event_type, event.schema_version) == (event_type, version)
    assert isinstance(event.typed_data, EVENTS[(event_type, version)][1])
    assert isinstance(event.typed_data, EVENT_CLASSES[event_type])
    assert delivery.json()["data"] == fake.webhooks.sample(event_type, version)


def test_given_data_replaces_the_samples_keys_and_must_fit_the_spec() -> None:
    fake = FakeWise()
    delivery = fake.webhooks.delivery("transfers#state-change", {"current_state": "outgoing_payment_sent"})
    data = delivery.json()["data"]
    assert data["current_state"] == "outgoing_payment_sent"
    assert data["resource"] == fake.webhooks.sample("transfers#state-change")["resource"]
    with pytest.raises(ValueError, match=r"data\.resource\.id must be integer"):
        fake.webhooks.delivery("transfers#state-change", {"resource": {"type": "transfer", "id": "x"}})
    with pytest.raises(ValueError, match=r"data\.currentState is not in the spec"):
        fake.webhooks.delivery("transfers#state-change", {"currentState": "processing"})
    with pytest.raises(ValueError, match=r"2\.0\.0, 4\.0\.0"):
        fake.webhooks.delivery("transfers#state-change", schema_version="3.0.0")


def test_an_event_the_spec_does_not_describe_goes_out_as_given() -> None:
    fake = FakeWise()
    delivery = fake.webhooks.delivery("balances#credit", {"resource": {"id": 1}, "amount": 10})
    event = construct_event(delivery.body, delivery.headers, public_keys=[fake.webhooks.public_key_b64])
    assert delivery.json()["data"] == {"resource": {"id": 1}, "amount": 10}
    assert event.schema_version == "2.0.0" and isinstance(event.typed_data, UnknownEventData)
    with pytest.raises(ValueError, match="describes no 'balances#credit' event"):
        fake.webhooks.sample("balances#credit")


@pytest.mark.parametrize("version", ["2.0.0", "4.0.0"])
def test_a_transfer_state_change_of_the_fakes_transfer_fits_each_version(version: str) -> None:
    fake = FakeWise()
    (transfer_id,) = fake.seed_transfers(1)
    delivery = fake.webhooks.transfer_state_change(
        transfer_id, current_state="outgoing_payment_sent", schema_version=version
    )
    event = construct_event(delivery.body, delivery.headers, public_keys=[fake.webhooks.public_key_b64])
    data = event.typed_data
    assert isinstance(data, EVENT_CLASSES["transfers#state-change"])
    assert (data.resource.id, data.current_state, event.schema_version) == (
        transfer_id,
        "outgoing_payment_sent",
        version,
    )


@pytest.mark.parametrize(
    ("schema", "problems"),
    [
        ({"type": "object", "properties": {"a": {"type": "integer"}}}, ["b is not in the spec"]),
        (
            {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
            ["b is not in the spec"],
        ),
        ({"type": "object", "properties": {"a": {}}, "additionalProperties": True}, []),
        ({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, []),
        ({"allOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}]}, []),  # parts declare some keys
    ],
)
def test_a_closed_check_refuses_only_keys_no_part_of_the_schema_allows(
    schema: dict[str, object], problems: list[str]
) -> None:
    assert list(validate({"a": 1, "b": 2}, schema, {}, closed=True)) == problems
    assert list(validate({"a": 1, "b": 2}, schema, {})) == []  # requests Wise receives stay open
