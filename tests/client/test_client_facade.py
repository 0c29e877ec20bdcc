"""The typed facade: success models, typed errors, raw responses, and the full operation surface."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import uuid
from decimal import Decimal

import pytest
from bundle_paths import path_of
from cryptography.hazmat.primitives.asymmetric import rsa
from wise_api.models import (
    BusinessProfile,
    PersonalProfile,
    Quote,
    QuoteCreateBody,
    StandardTransfer,
    TransferCreateBody,
    TransferFundResponse200,
    TransferFundResponse200Status,
)
from wise_api.operations import OPERATIONS

from wise_async import NotFoundError, PrivateKeyScaSigner, WiseClient, WiseResponse
from wise_async.testing import FakeWise

from .helpers import fund_body, new_fake, new_transfer, public_pem, quote_and_recipient, user_client


@pytest.fixture
def fake() -> FakeWise:
    return new_fake()


async def test_calls_return_success_models(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        profiles = await wise.profiles.list()
        assert [type(p) for p in profiles] == [PersonalProfile, BusinessProfile]
        assert {p.id for p in profiles} == {fake.personal_profile_id, fake.business_profile_id}

        profile = await wise.profiles.get(fake.business_profile_id)
        assert isinstance(profile, BusinessProfile)

        quote = await wise.quotes.create(
            fake.personal_profile_id,
            body=QuoteCreateBody(
                source_currency="GBP", target_currency="EUR", source_amount=Decimal("100.0")
            ),
        )
        assert isinstance(quote, Quote)
        assert isinstance(quote.id, uuid.UUID)
        assert quote.source_amount == 100.0
        assert isinstance(await wise.quotes.get(fake.personal_profile_id, quote.id), Quote)

        transfer = await new_transfer(wise, fake)
        assert isinstance(transfer, StandardTransfer)
        fetched = await wise.transfers.get(transfer.id)
        assert isinstance(fetched, StandardTransfer)
        assert fetched.id == transfer.id
        listed = await wise.transfers.list(profile=fake.personal_profile_id)
        assert [t.id for t in listed] == [transfer.id]


async def test_fund_returns_its_model(fake: FakeWise, rsa_key: rsa.RSAPrivateKey) -> None:
    fake.register_sca_public_key(public_pem(rsa_key))
    async with user_client(fake, sca_handler=PrivateKeyScaSigner(rsa_key)) as wise:
        transfer = await new_transfer(wise, fake)
        payment = await wise.transfers.fund(fake.personal_profile_id, transfer.id, body=fund_body())
    assert isinstance(payment, TransferFundResponse200)
    assert payment.type_ == "BALANCE"
    assert payment.status == TransferFundResponse200Status.COMPLETED


async def test_non_2xx_raises_the_typed_error(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        correlation = uuid.uuid4()
        with pytest.raises(NotFoundError) as caught:
            await wise.transfers.get(99, x_external_correlation_id=correlation)
    err = caught.value
    (record,) = [r for r in fake.requests if r.operation_id == "transferGet"]
    assert err.status_code == 404
    assert [(e.code, e.message) for e in err.errors] == [("NOT_FOUND", "Transfer 99 not found.")]
    assert err.trace_id == record.response_headers["x-trace-id"]
    assert err.correlation_id == str(correlation)
    assert (
        err.method == "GET"
        and err.url is not None
        and err.url.endswith(path_of("transferGet", transferId=99))
    )


async def test_with_raw_response(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        quote_id, recipient_id = await quote_and_recipient(wise, fake)
        key = uuid.uuid4()
        raw = await wise.transfers.with_raw_response.create(
            body=TransferCreateBody(
                target_account=recipient_id, quote_uuid=quote_id, customer_transaction_id=key
            )
        )
    assert isinstance(raw, WiseResponse)
    assert raw.status_code == 200
    assert isinstance(raw.parsed, StandardTransfer)
    body = json.loads(raw.content)
    assert body["id"] == raw.parsed.id
    assert body["customerTransactionId"] == str(key)
    assert raw.idempotency_key == str(key)
    record = fake.requests[-1]
    assert record.operation_id == "transferCreate"
    assert raw.correlation_id == record.headers["x-external-correlation-id"]
    assert raw.headers["x-external-correlation-id"] == raw.correlation_id  # echoed by Wise
    assert raw.trace_id == record.response_headers["x-trace-id"] == raw.headers["x-trace-id"]
    assert raw.http_response.request.url.path == path_of("transferCreate")


async def test_with_raw_response_on_a_get_has_no_idempotency_key(fake: FakeWise) -> None:
    async with user_client(fake) as wise:
        raw = await wise.profiles.with_raw_response.list()
    assert raw.status_code == 200
    assert raw.idempotency_key is None
    assert len(raw.parsed) == 2
    assert len(json.loads(raw.content)) == 2


# --------------------------------------------------------------------------- the whole surface


def _generated_asyncio_annotations(module_name: str) -> dict[str, str]:
    """Parameter -> annotation source of the generated ``asyncio`` function, minus ``client``."""
    module = importlib.import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    (function,) = [n for n in tree.body if isinstance(n, ast.AsyncFunctionDef) and n.name == "asyncio"]
    arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
    return {a.arg: ast.unparse(a.annotation) for a in arguments if a.arg != "client" and a.annotation}


def test_every_operation_is_reachable_with_the_generated_signature() -> None:
    assert len(OPERATIONS) == 238
    wise = WiseClient(personal_token="t0ken")
    required_idempotency = {op.operation_id for op in OPERATIONS if op.idempotency_header == "required"}
    assert required_idempotency == {"balanceCreate", "balanceMovement", "balanceConvertV1", "cardOrderCreate"}
    seen: set[tuple[str, str]] = set()
    for op in OPERATIONS:
        method = getattr(getattr(wise, op.namespace), op.method_name)
        raw_method = getattr(getattr(wise, op.namespace).with_raw_response, op.method_name)
        assert inspect.iscoroutinefunction(method), op.operation_id
        seen.add((op.namespace, op.method_name))

        generated = inspect.signature(importlib.import_module(op.module).asyncio)
        expected = [p for p in generated.parameters.values() if p.name != "client"]
        annotations = _generated_asyncio_annotations(op.module)
        for facade_method in (method, raw_method):
            *actual, options = inspect.signature(facade_method).parameters.values()
            # the generated arguments, then the per-call options every method takes
            assert (options.name, options.kind) == ("options", inspect.Parameter.VAR_KEYWORD), op.operation_id
            assert options.annotation == "Unpack[RequestOptions]", op.operation_id
            assert [p.name for p in actual] == [p.name for p in expected], op.operation_id
            for want, got in zip(expected, actual, strict=True):
                where = f"{op.operation_id}.{want.name}"
                assert got.kind == want.kind, where
                if want.name == "x_idempotence_uuid" and op.operation_id in required_idempotency:
                    # required by the spec, minted by the SDK when not given
                    assert want.default is inspect.Parameter.empty, where
                    assert got.default is None, where
                    assert got.annotation == f"{annotations[want.name]} | None", where
                    continue
                assert got.default is want.default or got.default == want.default, where
                if want.name == "body" and hasattr(importlib.import_module(op.module), "_body"):
                    # a model body is also accepted in wire form (its TypedDict; a list body as a list of
                    # them), checked first
                    model, _, mapping = got.annotation.partition(" | ")
                    assert model == annotations[want.name].partition(" | ")[0], where
                    assert "Dict" in mapping or "Mapping[str, Any]" in mapping, where
                    continue
                # an enum parameter also takes its values as strings: `Status | Literal["A", "B"]`, and a uuid
                # path parameter the id as a string (`quote.id` is `UUID | str`)
                annotation = re.sub(r" \| Literal\[[^\]]*\]", "", got.annotation)
                if annotations[want.name] == "UUID" and want.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
                    annotation = annotation.replace("UUID | str", "UUID")
                assert annotation == annotations[want.name], where
    assert len(seen) == 238  # no two operations share a method


async def test_generated_functions_share_the_stack_through_low_level_client(fake: FakeWise) -> None:
    from wise_api.api.profile import profile_list

    async with user_client(fake, know_expiry=False) as wise:
        fake.clock.advance(12 * 3600 + 1)
        profiles = await profile_list.asyncio(client=wise.low_level_client)
    assert profiles is not None and len(profiles) == 2
    # auth flow (401 -> refresh -> replay) and correlation ids apply to direct generated calls too
    assert [(r.operation_id, r.status) for r in fake.requests] == [
        ("profileList", 401),
        ("oauthTokenCreate", 200),
        ("profileList", 200),
    ]
    assert uuid.UUID(fake.requests[-1].headers["x-external-correlation-id"])


async def test_enum_parameters_take_their_string_values_and_reject_typos_before_sending(
    fake: FakeWise,
) -> None:
    fake.seed_activities(3)
    async with WiseClient(personal_token=fake.add_personal_token(), transport=fake.transport()) as wise:
        await wise.activities.list(fake.personal_profile_id, status="COMPLETED")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="COMPLETD"):
            await wise.activities.list(fake.personal_profile_id, status="COMPLETD")  # type: ignore[arg-type]
    assert [c.query.split("&")[0] for c in fake.calls("activityList")] == ["status=COMPLETED"]  # one request
