"""The webhook event table (codegen/webhook_events.py) follows the spec's ``webhooks`` section."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from codegen import webhook_events
from codegen.generate import load_config, parse
from codegen.normalize import Spec, normalize

CONFIG_FILE = Path(__file__).resolve().parents[2] / "generator-config.yml"


@pytest.fixture(scope="module")
def events_of(bundle_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    config = load_config(CONFIG_FILE, bundle_path, tmp_path_factory.mktemp("parse") / "wise_api")

    def collect(spec: Spec) -> list[webhook_events.EventVersion]:
        spec = copy.deepcopy(spec)
        normalize(spec)
        return webhook_events.collect(spec, parse(spec, config))

    return collect


def test_every_event_version_of_the_bundle_has_its_models(raw_bundle: Spec, events_of: Any) -> None:
    events = events_of(raw_bundle)
    assert {e.event_type for e in events} == set(raw_bundle["webhooks"])
    assert len({(e.event_type, e.schema_version) for e in events}) == len(events)
    for event in events:
        assert event.data == event.envelope + "Data", event
        assert event.data_fields, event


def test_a_webhook_field_wise_adds_reaches_the_data_model(raw_bundle: Spec, events_of: Any) -> None:
    spec = copy.deepcopy(raw_bundle)
    schema = spec["webhooks"]["transfers#state-change"]["post"]["requestBody"]["content"]["application/json"]
    ref = schema["schema"]["discriminator"]["mapping"]["4.0.0"]
    component = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    component["properties"]["data"]["properties"]["fresh_field"] = {"type": "string"}

    (event,) = [
        e for e in events_of(spec) if (e.event_type, e.schema_version) == ("transfers#state-change", "4.0.0")
    ]
    assert "fresh_field" in event.data_fields


def test_a_new_event_is_in_the_table_with_its_own_class(raw_bundle: Spec, events_of: Any) -> None:
    spec = copy.deepcopy(raw_bundle)
    spec["webhooks"]["balances#credit"] = copy.deepcopy(spec["webhooks"]["hold-limit-breach#update"])
    events = events_of(spec)
    assert ("balances#credit", "4.0.0") in {(e.event_type, e.schema_version) for e in events}
    source = webhook_events.render(events)
    compile(source, "webhook_events.py", "exec")
    assert '"balances#credit": BalancesCreditData,' in source
    bases = webhook_events.render_bases(events)
    compile(bases, "webhook_data.py", "exec")
    assert "class BalancesCreditData:" in bases  # the base class of every version's data model


def test_event_class_names() -> None:
    assert webhook_events.event_class_name("transfers#state-change") == "TransfersStateChangeData"
    assert (
        webhook_events.event_class_name("account-details-payment#state-change")
        == "AccountDetailsPaymentStateChangeData"
    )
