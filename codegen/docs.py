"""Words for readers, from the spec: facade docstrings and the API reference (``generated/api.md``).

The spec's prose (summaries, descriptions, parameter meanings) goes only into generated output, never
into a committed file. Wise writes Markdown with some HTML; ``plain`` turns it into text a ``help()`` or a
terminal shows well.
"""

from __future__ import annotations

import re
import textwrap

from codegen.facade import DOCS, Operation

# HTTP status → the typed error the client raises for it (pinned against wise_async._exceptions by
# tests/codegen/test_docs.py); other 4xx raise APIStatusError, 5xx InternalServerError.
STATUS_ERRORS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}

_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_TAG = re.compile(r"<[^>]{0,200}>")
_EMPHASIS = re.compile(r"(\*\*|__)([^*_]+?)\1")
_HEADING = re.compile(r"^#{1,6}\s*", re.MULTILINE)
_ADMONITION = re.compile(r"\{%\s*admonition[^%}]{0,200}%\}\s*")  # Markdoc: {% admonition type="info" %}
_MARKDOC = re.compile(r"\{%[^%}]{0,200}%\}")
# meanings of the parameters the spec leaves undescribed on most operations
GENERIC = {
    "x_external_correlation_id": "a UUID of yours, sent as the X-External-Correlation-Id header.",
    "profile_id": "the id of the profile (personal or business) the call acts for.",
    "x_idempotence_uuid": "the idempotency key (X-idempotence-uuid); the SDK makes one when not given.",
}


def plain(value: object) -> str:
    """Wise's Markdown/HTML as plain text: links keep their words (and absolute URLs), tags go."""
    if hasattr(value, "get_untrusted_value"):
        value = value.get_untrusted_value()
    if not isinstance(value, str) or not value:
        return ""
    text = value

    def link(match: re.Match[str]) -> str:
        words, url = match.group(1), match.group(2)
        return f"{words} ({url})" if url.startswith("http") else words

    text = _ADMONITION.sub("Note: ", text)
    text = _MARKDOC.sub("", text)
    text = _LINK.sub(link, text)
    text = _TAG.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _HEADING.sub("", text)
    text = text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _safe(text: str) -> str:
    """Text that can sit inside a triple-quoted (non-raw) docstring."""
    text = text.replace("\\", "/").replace('"""', "'''")
    return text + " " if text.endswith('"') else text


def _wrap(text: str, indent: str, width: int = 100) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        if lines:
            lines.append("")
        lines += textwrap.wrap(paragraph, width=width, initial_indent=indent, subsequent_indent=indent) or [
            indent
        ]
    return lines


def docs_url(op: Operation) -> str:
    return f"{DOCS}/{op.tag.replace('_', '-')}/{op.operation_id.lower()}"


def _parameters(op: Operation) -> dict[str, str]:
    endpoint = op.endpoint
    found: dict[str, str] = {}
    for param in [
        *endpoint.path_parameters,
        *endpoint.query_parameters,
        *endpoint.header_parameters,
        *endpoint.cookie_parameters,
    ]:
        found[str(param.python_name)] = plain(getattr(param, "description", None))
    return found


BEFORE_SENDING = ("InvalidRequestError", "an argument does not fit the spec (checked before sending)")


def status_errors(op: Operation) -> list[tuple[str, str]]:
    """``(status, error class)`` for each error status the spec documents (``404``, a range ``4XX``, or
    ``default``), as the client raises them."""
    found: list[tuple[str, str]] = []
    for response in op.endpoint.responses.patterns:
        pattern = response.status_code
        low, high = pattern.range or (400, 599)  # `default`: whatever else Wise answers
        if high < 400:
            continue
        exact = STATUS_ERRORS.get(low) if low == high else None
        found.append((pattern.pattern, exact or ("InternalServerError" if low >= 500 else "APIStatusError")))
    return found


def errors(op: Operation) -> list[tuple[str, str]]:
    """``(error class, when)`` for each non-2xx status the spec documents, then the check before sending."""
    found: dict[str, list[str]] = {}
    for status, name in status_errors(op):
        found.setdefault(name, []).append(status)
    rows = [(name, "HTTP " + ", ".join(statuses)) for name, statuses in found.items()]
    rows.append(BEFORE_SENDING)
    return rows


def docstring(op: Operation, args: list[str], success: str, indent: str = "        ") -> str:
    """The facade method's docstring body (without the quotes), indented for a method."""
    endpoint = op.endpoint
    summary = plain(endpoint.summary) or op.operation_id
    summary = summary.split("\n\n")[0]
    description = plain(endpoint.description)
    if description.startswith(summary) and description[len(summary) : len(summary) + 1] in ("", ".", "\n"):
        description = description[len(summary) :].lstrip(" .\n")  # the summary said it already
    meanings = _parameters(op)
    lines = [_safe(summary.rstrip(".")) + f" (`{op.operation_id}`)."]
    if op.deprecated:
        lines += ["", "Deprecated in Wise's API spec."]
    if description:
        lines += ["", *(_safe(line) for line in _wrap(description, ""))]
    names = [a.split(":", 1)[0].strip() for a in args if ":" in a and not a.startswith("*")]
    if names:
        lines += ["", "Args:"]
        for name in names:
            if name == "body":
                meaning = "the request body: the model, or its wire form as a mapping (camelCase keys)."
            else:
                meaning = meanings.get(name) or GENERIC.get(name, "")
            text = _safe(f"{name}: {meaning}".rstrip(": "))
            lines += (
                _wrap(text, "    ")[:1] + _wrap(text, "        ")[1:] if len(text) > 96 else ["    " + text]
            )
    lines += ["", "Returns:", f"    {success}", "", "Raises:"]
    lines += [f"    {name}: {when}" for name, when in errors(op)]
    lines += ["", f"{op.method} {op.path} · {docs_url(op)}"]
    return "\n".join((indent + line if line else "") for line in lines).strip()


def api_reference(operations: list[Operation], signatures: dict[str, tuple[list[str], set[str]]]) -> str:
    """``api.md``: every facade call with its HTTP method and path, arguments, return type, deprecation."""
    by_namespace: dict[str, list[Operation]] = {}
    for op in operations:
        by_namespace.setdefault(op.namespace, []).append(op)
    out = [
        "# wise-async API reference",
        "",
        f"Generated with the client from Wise's OpenAPI spec (codegen/docs.py): {len(operations)}"
        f" operations in {len(by_namespace)} namespaces. Every call is"
        " `await wise.<namespace>.<method>(...)`, takes the per-call options (`timeout=`,"
        " `max_retries=`, `idempotency_key=`, `extra_headers=`, ...) and has a"
        " `wise.<namespace>.with_raw_response.<method>(...)` twin returning `WiseResponse[...]`."
        " Errors: each status the spec documents for the call → the typed error raised for it (any other"
        " 4xx raises `APIStatusError`, a 5xx `InternalServerError`).",
        "",
    ]
    out += [f"- [{ns}](#{ns})" for ns in sorted(by_namespace)]
    for namespace in sorted(by_namespace):
        out += ["", f"## {namespace}", ""]
        for op in by_namespace[namespace]:
            args, _ = signatures[op.operation_id]
            rendered = ", ".join(a.rstrip(",") for a in args)
            success = _success_of(op)
            flag = " — **deprecated**" if op.deprecated else ""
            out.append(f"### `wise.{namespace}.{op.method_name}`{flag}")
            out.append("")
            out.append(f"`{op.method} {op.path}` · `{op.operation_id}` · [docs]({docs_url(op)})")
            out.append("")
            out.append("```python")
            out.append(f"await wise.{namespace}.{op.method_name}({rendered}) -> {success}")
            out.append("```")
            summary = plain(op.endpoint.summary)
            if summary:
                out += ["", summary.split("\n\n")[0]]
            raised = [f"{status} → {name}" for status, name in status_errors(op)]
            before, when = BEFORE_SENDING
            out += ["", "Errors: " + " · ".join([*raised, f"{before} when {when}"]), ""]
    return "\n".join(out).rstrip() + "\n"


def _success_of(op: Operation) -> str:
    if op.success_types == ("File",):
        return "bytes"
    return " | ".join(op.success_types) or "None"
