"""Webhook subscriptions (profile and application), stateful: what they hold decides where
``FakeWebhooks`` sends the deliveries a state change produces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._clock import format_iso
from ._http import FakeResponse, Rejection, empty_response, errors_response, json_response
from ._routes_profiles import owned_profile
from ._routing import Call, route
from ._rules import refuse
from ._store import Record, public

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["ROUTES"]


def _subscription_request(call: Call) -> tuple[str, str, dict[str, str]]:
    body = call.request.json_object()
    delivery: Any = body.get("delivery")
    missing = [name for name in ("name", "trigger_on") if not isinstance(body.get(name), str)]
    if not isinstance(delivery, dict):
        missing.append("delivery")
    else:
        missing += [f"delivery.{k}" for k in ("version", "url") if not isinstance(delivery.get(k), str)]
    if missing:
        raise refuse("subscription-request", f"{', '.join(missing)} must be given as strings.", missing[0])
    return body["name"], body["trigger_on"], {"version": delivery["version"], "url": delivery["url"]}


def _create(fake: FakeWise, call: Call, scope: dict[str, str], created_by: dict[str, str]) -> Record:
    name, trigger_on, delivery = _subscription_request(call)
    subscription: Record = {
        "id": fake._new_secret(),
        "name": name,
        "delivery": delivery,
        "trigger_on": trigger_on,
        "scope": scope,
        "created_by": created_by,
        "created_at": format_iso(fake.clock.now()),
    }
    fake.subscriptions.put(subscription["id"], subscription)
    return subscription


def _owned(fake: FakeWise, scope: dict[str, str], subscription_id: str) -> Record:
    found = fake.subscriptions.record(subscription_id)
    if found is None or found["scope"] != scope:
        raise Rejection(errors_response(404, "NOT_FOUND", f"Subscription {subscription_id} not found."))
    return found


def _profile_scope(fake: FakeWise, call: Call) -> dict[str, str]:
    profile = owned_profile(fake, call, call.int_param("profileId"))
    return {"domain": "profile", "id": str(profile["id"])}


def _application_scope(call: Call) -> dict[str, str]:
    client_key = call.params["clientKey"]
    if call.principal is None or call.principal.client_id != client_key:
        raise Rejection(errors_response(403, "ACCESS_DENIED", "Not this application's client key."))
    return {"domain": "application", "id": client_key}


def _in(fake: FakeWise, scope: dict[str, str]) -> list[Record]:
    return [public(s) for s in fake.subscriptions.records(lambda s: s["scope"] == scope)]


@route("POST", "/v3/profiles/{profileId}/subscriptions", "webhookProfileSubscriptionCreate", "user")
def profile_create(fake: FakeWise, call: Call) -> FakeResponse:
    creator = {"type": "user", "id": str(call.user_id)}
    return json_response(200, public(_create(fake, call, _profile_scope(fake, call), creator)))


@route("GET", "/v3/profiles/{profileId}/subscriptions", "webhookProfileSubscriptionList", "user")
def profile_list(fake: FakeWise, call: Call) -> FakeResponse:
    return json_response(200, _in(fake, _profile_scope(fake, call)))


@route(
    "GET", "/v3/profiles/{profileId}/subscriptions/{subscriptionId}", "webhookProfileSubscriptionGet", "user"
)
def profile_get(fake: FakeWise, call: Call) -> FakeResponse:
    found = _owned(fake, _profile_scope(fake, call), call.params["subscriptionId"])
    return json_response(200, public(found))


@route(
    "DELETE",
    "/v3/profiles/{profileId}/subscriptions/{subscriptionId}",
    "webhookProfileSubscriptionDelete",
    "user",
)
def profile_delete(fake: FakeWise, call: Call) -> FakeResponse:
    found = _owned(fake, _profile_scope(fake, call), call.params["subscriptionId"])
    fake.subscriptions.remove(found["id"])
    return empty_response(204)


@route("POST", "/v3/applications/{clientKey}/subscriptions", "webhookApplicationSubscriptionCreate", "client")
def application_create(fake: FakeWise, call: Call) -> FakeResponse:
    scope = _application_scope(call)
    creator = {"type": "application", "id": scope["id"]}
    return json_response(200, public(_create(fake, call, scope, creator)))


@route("GET", "/v3/applications/{clientKey}/subscriptions", "webhookApplicationSubscriptionList", "client")
def application_list(fake: FakeWise, call: Call) -> FakeResponse:
    return json_response(200, _in(fake, _application_scope(call)))


@route(
    "GET",
    "/v3/applications/{clientKey}/subscriptions/{subscriptionId}",
    "webhookApplicationSubscriptionGet",
    "client",
)
def application_get(fake: FakeWise, call: Call) -> FakeResponse:
    return json_response(200, public(_owned(fake, _application_scope(call), call.params["subscriptionId"])))


@route(
    "DELETE",
    "/v3/applications/{clientKey}/subscriptions/{subscriptionId}",
    "webhookApplicationSubscriptionDelete",
    "client",
)
def application_delete(fake: FakeWise, call: Call) -> FakeResponse:
    found = _owned(fake, _application_scope(call), call.params["subscriptionId"])
    fake.subscriptions.remove(found["id"])
    return empty_response(204)


@route(
    "POST",
    "/v3/applications/{clientKey}/subscriptions/{subscriptionId}/test-notifications",
    "webhookApplicationSubscriptionTest",
    "client",
)
def application_test(fake: FakeWise, call: Call) -> FakeResponse:
    found = _owned(fake, _application_scope(call), call.params["subscriptionId"])
    delivery = fake.webhooks.queue_test_notification(found)
    return json_response(
        200, [{"delivery_id": delivery.delivery_id, "created_at": format_iso(fake.clock.now())}]
    )


ROUTES = [
    profile_create,
    profile_list,
    profile_get,
    profile_delete,
    application_create,
    application_list,
    application_get,
    application_delete,
    application_test,
]
