"""What may travel as an HTTP header value, and the checks that refuse the rest before anything is sent.

Credentials become header values (``Authorization: Bearer …``, ``x-2fa-approval``). A token read from a
file keeps its trailing newline; one pasted from a document may carry a no-break space. httpx would
refuse such a value deep inside a request (``Illegal header value b'Bearer <the token>'``) or fail to
encode it, with the token in the traceback. So credentials are checked once, when they enter:

* surrounding whitespace (spaces, tabs, CR, LF) is stripped — no Wise credential has any;
* anything else outside visible ASCII (``!`` to ``~``) is refused with a typed error that names the
  credential and the kind of character, never the value or where in it the character stands.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._exceptions import WiseError

__all__ = ["check_header_fields", "clean_credential", "credential_problem"]

_SURROUNDING_WHITESPACE = " \t\r\n"


def credential_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as a credential in a header, or ``None`` if it can."""
    if not value:
        return "it is empty"
    if value.isascii() and value.isprintable() and " " not in value:
        return None  # the common case, checked in C
    for char in value:
        if char in "\r\n":
            return "it contains a line break (CR or LF)"
        if not char.isascii():
            return "it contains a non-ASCII character"
        if not char.isprintable():
            return "it contains a control character"
        if char == " ":
            return "it contains a space"
    return None  # pragma: no cover - one of the branches above answers for a value that failed the test


def clean_credential(name: str, value: str | None, error: type[WiseError]) -> str | None:
    """``value`` with surrounding whitespace stripped; ``error`` (naming ``name``) if it cannot be sent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise error(f"{name} must be a str, not {type(value).__name__}")
    stripped = value.strip(_SURROUNDING_WHITESPACE)
    problem = credential_problem(stripped)
    if problem is not None:
        raise error(f"{name} cannot be sent in an HTTP header: {problem} (the value is not shown)")
    return stripped


def _field_problem(name: str, value: str) -> str | None:
    if not name or not name.isascii() or not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name):
        return "its name is not an HTTP header name"
    if any(c in "\r\n\0" for c in value):
        return "its value contains a line break or NUL"
    if not value.isascii():
        return "its value contains a non-ASCII character"
    if not value.replace("\t", " ").isprintable():
        return "its value contains a control character"
    return None


def check_header_fields(what: str, headers: Mapping[str, str], error: type[WiseError]) -> None:
    """Refuse header fields httpx could not send as given (names are shown, values never are)."""
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise error(f"{what}: header names and values must be str")
        problem = _field_problem(name, value)
        if problem is not None:
            shown = name if name.isascii() and name.isprintable() else ascii(name)
            raise error(f"{what}: header {shown[:64]} cannot be sent: {problem}")
