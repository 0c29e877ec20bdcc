"""Every value class is a `record`: it must behave as the frozen dataclass it replaced.

Each record is compared with a real `@dataclass(frozen=True)` twin built from its own fields: same
repr, same equality, equal hashes for equal values. Its hand-written `__init__` must take exactly the
init fields, in order, with the fields' defaults (so the two lists cannot drift apart).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import pickle
import sys
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wise_async
from wise_async._operations import OperationSpec
from wise_async._options import ClientDefaults
from wise_async._record import Record, record
from wise_async._settings import EnvironmentSettings


async def _send(method: str, path: str, **kwargs: Any) -> httpx.Response:
    raise AssertionError("not called")


_REQUEST = httpx.Request("POST", "https://api.wise-sandbox.com/v3/profiles/1/transfers")
_RESPONSE = httpx.Response(403, headers={"x-2fa-approval": "ott-1"}, request=_REQUEST)

SAMPLES: dict[type[Record], list[dict[str, Any]]] = {
    wise_async.RetryPolicy: [{}, {"max_retries": 5, "jitter": 0.0}],
    wise_async.Environment: [
        {"name": "custom", "base_url": "http://127.0.0.1:1", "twcard_base_url": None},
        {
            "name": "custom",
            "base_url": "http://127.0.0.1:2",
            "twcard_base_url": "http://x",
            "authorize_url": "a",
        },
    ],
    wise_async.ErrorDetail: [{"code": "c", "message": "m"}, {"path": "p", "arguments": ["a"]}],
    wise_async.ScaChallenge: [{"type": "PIN"}, {"type": "SMS", "required": True, "alternatives": ["PIN"]}],
    wise_async.TokenKey: [{"client_id": "c"}, {"client_id": "c", "user": "u"}],
    wise_async.OAuthTokens: [
        {"access_token": "a"},
        {"access_token": "a", "refresh_token": "r", "expires_at": 1.0},
    ],
    wise_async.WiseResponse: [
        {
            "parsed": [1],
            "status_code": 200,
            "headers": httpx.Headers({"a": "b"}),
            "content": b"[1]",
            "idempotency_key": None,
            "correlation_id": "c",
            "trace_id": None,
            "http_response": _RESPONSE,
        }
    ],
    wise_async.ScaContext: [
        {
            "one_time_token": "ott-1",
            "request": _REQUEST,
            "response": _RESPONSE,
            "operation": None,
            "send": _send,
        }
    ],
    wise_async.RetryInfo: [{"attempt": 1, "reason": "429", "delay": 0.5}],
    wise_async.RefreshInfo: [
        {
            "reason": "rejected",
            "outcome": "renewed",
            "error_type": None,
            "lease_wait": 0.0,
            "start_time_ns": 1,
            "duration": 0.1,
        }
    ],
    wise_async.ScaInfo: [
        {
            "operation_id": "transferFund",
            "handler": "PrivateKeyScaSigner",
            "outcome": "approved",
            "error_type": None,
            "start_time_ns": 1,
            "duration": 0.1,
        }
    ],
    wise_async.JoseInfo: [{"method": "jwe", "start_time_ns": 1, "duration": 0.1}],
    ClientDefaults: [{}, {"max_retries": 1, "headers": {"a": "b"}}],
    EnvironmentSettings: [{}, {"api_token": "t", "environment": "production"}],
    OperationSpec: [
        {
            "operation_id": "op",
            "method": "POST",
            "path": "/v3/profiles/{profileId}/transfers",
            "namespace": "transfers",
            "method_name": "create",
            "module": "transfer.transfer_create",
            "security": (("UserToken",), ()),
            "deprecated": False,
            "servers": ("https://twcard.wise.com",),
            "idempotency_header": None,
            "idempotency_body_key": "customerTransactionId",
            "request_content_types": ("application/json",),
        }
    ],
}


def _records() -> set[type[Record]]:
    """The record classes the package's modules hold (`slots=True` makes a new class; the one the
    class statement made may linger among the subclasses until it is collected)."""
    found: set[type[Record]] = set()
    pending = [Record]
    while pending:
        for cls in pending.pop().__subclasses__():
            module = sys.modules.get(cls.__module__)
            if cls.__module__.startswith("wise_async.") and getattr(module, cls.__name__, None) is cls:
                found.add(cls)
                pending.append(cls)
    return found


def test_every_record_in_the_package_is_sampled_here() -> None:
    assert _records() == set(SAMPLES)


@functools.cache
def _twin(cls: type[Record]) -> type[Any]:
    """The frozen dataclass `cls` was written as, built by dataclasses from the same fields."""
    specs = [
        (field.name, field.type, dataclasses.field(init=field.init, repr=field.repr, compare=field.compare))
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
    ]
    return dataclasses.make_dataclass(cls.__name__, specs, frozen=True)


def _copy_into_twin(instance: Record) -> Any:
    twin = _twin(type(instance))
    made = twin.__new__(twin)
    for field in dataclasses.fields(instance):  # type: ignore[arg-type]
        object.__setattr__(made, field.name, getattr(instance, field.name))
    return made


CASES = [(cls, kwargs) for cls, samples in SAMPLES.items() for kwargs in samples]


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_record_stores_its_arguments_and_fills_the_field_defaults(
    cls: type[Record], kwargs: dict[str, Any]
) -> None:
    made = cls(**kwargs)
    for field in dataclasses.fields(made):  # type: ignore[arg-type]
        if not field.init:
            continue
        if field.name in kwargs:
            assert getattr(made, field.name) is kwargs[field.name]
        elif field.default_factory is not dataclasses.MISSING:
            assert getattr(made, field.name) == field.default_factory()
        else:
            assert getattr(made, field.name) == field.default


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_init_takes_the_init_fields_in_order_with_their_defaults(cls: type[Record]) -> None:
    parameters = list(inspect.signature(cls).parameters.values())
    fields = [field for field in dataclasses.fields(cls) if field.init]  # type: ignore[arg-type]
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, field in zip(parameters, fields, strict=True):
        if field.default_factory is not dataclasses.MISSING:
            assert parameter.default is None  # the factory runs in __init__: no shared mutable default
        elif field.default is dataclasses.MISSING:
            assert parameter.default is inspect.Parameter.empty
        else:
            assert parameter.default == field.default


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_record_behaves_as_its_frozen_dataclass_twin(cls: type[Record], kwargs: dict[str, Any]) -> None:
    made = cls(**kwargs)
    twin = _copy_into_twin(made)
    if "__repr__" not in cls.__dict__:  # OAuthTokens and ScaContext hide their secrets themselves
        assert repr(made) == repr(twin)
    same = cls(**kwargs)
    assert made == same and _copy_into_twin(same) == twin
    assert made != twin  # another class, like two dataclasses with the same fields
    try:
        hash(twin)
    except TypeError:
        with pytest.raises(TypeError):
            hash(made)  # an unhashable field (a list, a dict) makes both unhashable
    else:
        assert hash(made) == hash(same)
    for field in dataclasses.fields(made):  # type: ignore[arg-type]
        if field.init and not isinstance(getattr(made, field.name), (bool, httpx.Response, httpx.Request)):
            changed = dataclasses.replace(made, **{field.name: _another(getattr(made, field.name))})
            assert (changed == made) is (_copy_into_twin(changed) == twin)


def _another(value: object) -> object:
    if isinstance(value, str):
        return value + "-other"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 or 0.5
    if value is None:
        return "set"
    return copy.copy(value)  # equal but another object: still equal


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_record_is_frozen(cls: type[Record], kwargs: dict[str, Any]) -> None:
    made = cls(**kwargs)
    name = dataclasses.fields(made)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, name, "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(made, name)
    with pytest.raises((AttributeError, TypeError)):
        made.not_a_field = 1  # type: ignore[attr-defined]
    assert not hasattr(made, "__dict__")


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [(c, k) for c, k in CASES if c not in (wise_async.WiseResponse, wise_async.ScaContext)],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_record_survives_pickle_and_copy(cls: type[Record], kwargs: dict[str, Any]) -> None:
    made = cls(**kwargs)
    assert pickle.loads(pickle.dumps(made)) == made
    assert copy.copy(made) == made
    assert copy.deepcopy(made) == made
    assert dataclasses.asdict(made) == dataclasses.asdict(_copy_into_twin(made))  # type: ignore[call-overload]


def test_the_error_a_pickled_exception_carries_comes_back_equal() -> None:
    detail = wise_async.ErrorDetail(code="c", message="m", arguments={"a": 1})
    assert pickle.loads(pickle.dumps(detail, protocol=0)) == detail


def test_a_record_must_write_its_own_init() -> None:
    with pytest.raises(TypeError, match="must define __init__"):

        @record
        class Missing(Record):
            """No __init__."""

            value: int


def test_no_secret_a_record_holds_is_in_its_repr() -> None:
    settings = EnvironmentSettings.read({"WISE_API_TOKEN": "tok-SECRET", "WISE_CLIENT_SECRET": "cs-SECRET"})
    defaults = ClientDefaults(headers={"X-Api-Key": "hk-SECRET"})
    tokens = wise_async.OAuthTokens("at-SECRET", refresh_token="rt-SECRET")
    context = wise_async.ScaContext("ott-SECRET", _REQUEST, _RESPONSE, None, _send)
    for record_ in (settings, defaults, tokens, context):
        assert "SECRET" not in repr(record_), repr(record_)
    assert settings.api_token == "tok-SECRET"  # kept, only not shown


_TEXT = st.one_of(st.none(), st.text(max_size=8))
_STRATEGIES: dict[type[Record], st.SearchStrategy[Any]] = {
    wise_async.RetryPolicy: st.builds(
        wise_async.RetryPolicy,
        max_retries=st.integers(0, 5),
        initial_delay=st.floats(0, 2),
        max_delay=st.floats(0, 10),
        max_retry_after=st.floats(0, 100),
        jitter=st.sampled_from([0.0, 0.25, 1.0]),
    ),
    wise_async.TokenKey: st.builds(wise_async.TokenKey, client_id=st.text(max_size=4), user=_TEXT),
    wise_async.ErrorDetail: st.builds(
        wise_async.ErrorDetail, code=_TEXT, message=_TEXT, path=st.sampled_from([None, "a", "b"])
    ),
    EnvironmentSettings: st.builds(EnvironmentSettings, client_id=_TEXT, base_url=_TEXT, log=_TEXT),
}


@pytest.mark.parametrize("cls", list(_STRATEGIES), ids=lambda c: c.__name__)
def test_records_compare_hash_and_show_like_their_twins_for_any_values(cls: type[Record]) -> None:
    strategy = _STRATEGIES[cls]

    @settings(max_examples=200, deadline=None)
    @given(strategy, strategy)
    def check(a: Record, b: Record) -> None:
        twin_a, twin_b = _copy_into_twin(a), _copy_into_twin(b)
        assert (a == b) is (twin_a == twin_b)
        assert (a != b) is (twin_a != twin_b)
        if a == b:
            assert hash(a) == hash(b)
        assert (repr(a) == repr(twin_a)) or "__repr__" in cls.__dict__
        assert dataclasses.replace(a) == a and pickle.loads(pickle.dumps(a)) == a

    check()
