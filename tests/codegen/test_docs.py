"""The words for readers: facade docstrings from the spec, and ``generated/api.md`` fresh with the client."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import httpx
import pytest
from wise_api.operations import OPERATIONS

from codegen import docs
from codegen.normalize import Spec
from wise_async import WiseClient
from wise_async._exceptions import _STATUS_TO_ERROR, make_status_error

ROOT = Path(__file__).resolve().parents[2]
API_MD = ROOT / "generated" / "api.md"


def test_the_documented_errors_are_the_ones_the_client_raises() -> None:
    assert {status: cls.__name__ for status, cls in _STATUS_TO_ERROR.items()} == docs.STATUS_ERRORS


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        (
            "See [the guide](/guides/x) and [Wise](https://wise.com).",
            "See the guide and Wise (https://wise.com).",
        ),
        ("A **bold** <b>tag</b>\n\n\n## Heading\nline", "A bold tag\n\nHeading line"),
        ('{% admonition type="info" %} Read this. {% /admonition %}', "Note: Read this."),
        ("<" * 10_000 + "x", "<" * 10_000 + "x"),  # no backtracking on untrusted text, nothing invented
    ],
)
def test_plain_text_from_wise_markup(markup: str, text: str) -> None:
    assert docs.plain(markup) == text


def _facade_methods() -> list[tuple[str, str, object]]:
    wise = WiseClient(personal_token="t")
    found = []
    for op in OPERATIONS:
        op_namespace = getattr(wise, op.namespace)
        found.append((op.namespace, op.method_name, getattr(op_namespace, op.method_name)))
    return found


def test_every_facade_method_documents_its_arguments_return_errors_and_link() -> None:
    for namespace, name, method in _facade_methods():
        doc = inspect.getdoc(method) or ""
        where = f"wise.{namespace}.{name}"
        assert "Returns:" in doc and "Raises:" in doc and "https://docs.wise.com/api-reference/" in doc, where
        for parameter in inspect.signature(method).parameters.values():
            if parameter.kind is parameter.KEYWORD_ONLY or parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
                assert f"    {parameter.name}" in doc, f"{where}: {parameter.name} undocumented"
        assert "object at 0x" not in str(inspect.signature(method)), where  # help() shows `= UNSET`


def test_api_md_lists_every_operation_as_the_client_has_it() -> None:
    """Fresh with the client: each facade call's signature, method and path, as the installed package has
    them (``make generate`` writes both; a stale api.md fails here)."""
    text = API_MD.read_text(encoding="utf-8")
    calls = dict(re.findall(r"^await (wise\.\w+\.\w+)\((.*)\) -> .*$", text, flags=re.MULTILINE))
    assert len(calls) == len(OPERATIONS) == 238
    methods = {f"wise.{ns}.{name}": method for ns, name, method in _facade_methods()}
    for op in OPERATIONS:
        call = f"wise.{op.namespace}.{op.method_name}"
        assert f"`{op.method} {op.path}` · `{op.operation_id}`" in text, call
        listed = [part.split(":", 1)[0].split("=", 1)[0].strip() for part in _split(calls[call])]
        parameters = inspect.signature(methods[call]).parameters.values()
        actual = [p.name for p in parameters if p.kind is not p.VAR_KEYWORD]  # less **options
        assert [n for n in listed if n != "*"] == actual, call
        if op.deprecated:
            assert f"### `{call}` — **deprecated**" in text


def _raised_for(status: int) -> str:
    """The class the client raises for an answer with this status (and no SCA header)."""
    response = httpx.Response(status, request=httpx.Request("GET", "https://api.wise.com/x"))
    return type(make_status_error(response)).__name__


def test_api_md_names_the_typed_error_of_each_status_the_spec_documents(
    normalized_bundle: tuple[Spec, object],
) -> None:
    """Each call's ``Errors:`` line: every error status the spec documents for the operation, each with the
    error the client raises for it (as the facade docstring's ``Raises:`` says), then the check before
    sending."""
    spec, _ = normalized_bundle
    documented = {
        op["operationId"]: sorted(code for code in op["responses"] if not code.isdigit() or int(code) >= 400)
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    docstrings = {f"wise.{ns}.{name}": inspect.getdoc(method) or "" for ns, name, method in _facade_methods()}
    sections = re.split(r"^### ", API_MD.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    assert len(sections) == len(OPERATIONS)
    named = 0
    for section in sections:
        call = section.split("`")[1]
        operation_id = section.split("` · `")[1].split("`")[0]
        errors = re.findall(r"^Errors: (.*)$", section, flags=re.MULTILINE)
        assert len(errors) == 1, call
        pairs = re.findall(r"(\w+) → (\w+)", errors[0])
        assert sorted(status for status, _ in pairs) == documented[operation_id], call
        for status, name in pairs:
            assert name == _raised_for(int(status)), f"{call}: {status}"
            assert re.search(rf"^    {name}: HTTP [0-9, ]*\b{status}\b", docstrings[call], re.MULTILINE), call
            named += name != "APIStatusError"
        assert errors[0].endswith(
            "InvalidRequestError when an argument does not fit the spec (checked before sending)"
        )
    assert named > 238  # 429 on every operation, and more


def _split(arguments: str) -> list[str]:
    """Top-level comma-separated parts (commas inside brackets stay)."""
    parts, depth, current = [], 0, ""
    for char in arguments:
        depth += (char in "[(" and 1) or 0
        depth -= (char in "])" and 1) or 0
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p for p in [*parts, current] if p.strip()]
