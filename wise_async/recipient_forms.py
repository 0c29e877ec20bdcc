"""Recipient forms from Wise's account requirements: fields, local validation, the recipient body.

Wise describes the recipient details a route needs as a dynamic form (``GET
/v1/quotes/{quoteId}/account-requirements``): per account type (``iban``, ``sort_code`` …) groups of
fields with a type, allowed values, a validation pattern and length bounds, and a
``refreshRequirementsOnChange`` flag on fields whose value changes the form (``address.country`` = US
adds ``address.state``). :class:`RecipientForm` holds that form::

    form = await wise.recipient_forms.for_quote(quote.id, currency="EUR", profile=profile_id)
    form.choose("iban")
    await form.set("legalType", "PRIVATE")
    await form.set("address.country", "US")  # refresh-flagged: Wise is asked again, once
    form.problems()                          # {"IBAN": "required", ...}: checked here, nothing sent
    recipient = await wise.recipients.create(body=form.recipient_body(account_holder_name="Ada L"))

Setting a refresh-flagged field to a new value POSTs the recipient built so far to the
account-requirements endpoint (once per change; other fields never cause a request). Validation is
local: required fields, allowed values, lengths, Wise's pattern, and the IBAN checksum (ISO 13616
mod-97) for IBAN fields. A value longer than its ``maxLength`` (or 1,000 characters) is refused
before the pattern runs, which bounds the work a pattern can do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ._exceptions import InvalidRequestError

if TYPE_CHECKING:
    from uuid import UUID

    from wise_api.models import AccountRequirementsResponseItem
    from wise_api.request_dicts import RecipientCreateRequestDict

    from ._client import WiseClient

__all__ = [
    "AllowedValue",
    "FormField",
    "RecipientForm",
    "RecipientFormError",
    "RecipientForms",
    "iban_is_valid",
]

MAX_VALUE_LENGTH = 1_000
_TOP_LEVEL = frozenset({"accountHolderName"})  # every other key goes under ``details`` (dots nest)


class RecipientFormError(InvalidRequestError):
    """Values the form refuses, before anything is sent: ``problems`` maps each field key to why."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("invalid recipient fields: " + "; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def iban_is_valid(value: str) -> bool:
    """ISO 13616: country code, check digits, then the mod-97 check over the rearranged number."""
    compact = value.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34) or not compact.isalnum() or not compact[:2].isalpha():
        return False
    if not compact[2:4].isdigit():
        return False
    digits = "".join(str(int(char, 36)) for char in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


@dataclass(frozen=True)
class AllowedValue:
    key: str
    name: str


@dataclass(frozen=True)
class FormField:
    """One field of the form, as Wise describes it."""

    key: str
    name: str
    type: str
    required: bool
    refresh_on_change: bool
    allowed: tuple[AllowedValue, ...] | None
    pattern: str | None
    min_length: int | None
    max_length: int | None
    example: str | None

    def problem(self, value: str | None) -> str | None:
        """Why ``value`` is not acceptable (None: it is)."""
        if value is None or value == "":
            return "required" if self.required else None
        if self.allowed is not None and value not in {choice.key for choice in self.allowed}:
            return "must be one of " + ", ".join(choice.key for choice in self.allowed)
        if len(value) > (self.max_length or MAX_VALUE_LENGTH):
            return f"longer than {self.max_length or MAX_VALUE_LENGTH} characters"
        if self.min_length is not None and len(value) < self.min_length:
            return f"shorter than {self.min_length} characters"
        compiled = _compiled(self.pattern)
        if compiled is not None and compiled.search(value) is None:
            return "does not match Wise's pattern"
        if self.key.lower() == "iban" and not iban_is_valid(value):
            return "not a valid IBAN (checksum)"
        return None


_PATTERNS: dict[str, re.Pattern[str] | None] = {}


def _compiled(pattern: str | None) -> re.Pattern[str] | None:
    """Wise's (Java) pattern in Python's dialect; one Python cannot read is left to Wise to check."""
    if not pattern:
        return None
    if pattern not in _PATTERNS:
        try:
            _PATTERNS[pattern] = re.compile(pattern)
        except re.error:
            _PATTERNS[pattern] = None
    return _PATTERNS[pattern]


def _fields_of(item: AccountRequirementsResponseItem) -> tuple[FormField, ...]:
    fields = []
    for group in item.fields or ():
        for raw in group.group or ():
            if not raw.key:
                continue
            allowed = None
            if raw.values_allowed is not None:
                allowed = tuple(AllowedValue(v.key or "", v.name or v.key or "") for v in raw.values_allowed)
            fields.append(
                FormField(
                    key=raw.key,
                    name=raw.name or raw.key,
                    type=raw.type_ or "text",
                    required=bool(raw.required),
                    refresh_on_change=bool(raw.refresh_requirements_on_change),
                    allowed=allowed,
                    pattern=raw.validation_regexp,
                    min_length=raw.min_length,
                    max_length=raw.max_length,
                    example=raw.example,
                )
            )
    return tuple(fields)


class RecipientForm:
    """Account requirements for one quote as a form: pick a ``type``, ``set`` values, build the body.

    ``fetches`` counts the account-requirements requests made for this form (1 after loading).
    """

    def __init__(
        self,
        client: WiseClient,
        quote_id: UUID | str,
        *,
        currency: str,
        profile: int | None,
        requirements: list[AccountRequirementsResponseItem],
    ) -> None:
        self._wise = client
        self.quote_id = str(quote_id)
        self.currency = currency
        self.profile = profile
        self.values: dict[str, str] = {}
        self.fetches = 1
        self._types: dict[str, tuple[str, tuple[FormField, ...]]] = {}
        self._read(requirements)
        self.type = next(iter(self._types), "")

    def __repr__(self) -> str:
        return f"RecipientForm(quote={self.quote_id}, type={self.type!r}, fields={len(self.fields)})"

    def _read(self, requirements: list[AccountRequirementsResponseItem]) -> None:
        self._types = {
            item.type_: (item.title or item.type_, _fields_of(item)) for item in requirements if item.type_
        }

    @property
    def types(self) -> tuple[str, ...]:
        """The account types Wise offers for this route (``iban``, ``sort_code`` …)."""
        return tuple(self._types)

    def choose(self, account_type: str) -> None:
        if account_type not in self._types:
            raise InvalidRequestError(
                f"account type {account_type!r} is not offered: {', '.join(self._types)}"
            )
        self.type = account_type

    @property
    def fields(self) -> tuple[FormField, ...]:
        """The fields of the chosen account type, in Wise's order."""
        return self._types[self.type][1] if self.type in self._types else ()

    def field(self, key: str) -> FormField:
        for candidate in self.fields:
            if candidate.key == key:
                return candidate
        raise InvalidRequestError(f"{key!r} is not a field of the {self.type!r} form")

    async def set(self, key: str, value: str) -> bool:
        """Set a field; True if it changed the form (a refresh-flagged field's new value: Wise is asked
        for the requirements again, with the recipient built so far)."""
        target = self.field(key)
        previous = self.values.get(key)
        self.values[key] = value
        if not target.refresh_on_change or previous == value:
            return False
        requirements = await self._wise.recipients.account_requirements_post(
            self.quote_id,
            body=cast("RecipientCreateRequestDict", self._body(self.values, account_holder_name=None)),
        )
        self.fetches += 1
        chosen = self.type
        self._read(requirements)
        self.type = chosen if chosen in self._types else next(iter(self._types), "")
        return True

    def problems(self, values: dict[str, str] | None = None) -> dict[str, str]:
        """Each invalid field's key and why, for the chosen type; empty when the form can be sent."""
        values = self.values if values is None else values
        found = {}
        for candidate in self.fields:
            problem = candidate.problem(values.get(candidate.key))
            if problem is not None:
                found[candidate.key] = problem
        return found

    def recipient_body(self, *, account_holder_name: str | None = None) -> dict[str, Any]:
        """The ``recipients.create`` body; raises :class:`RecipientFormError` naming every invalid field."""
        values = dict(self.values)
        if account_holder_name is not None:
            values["accountHolderName"] = account_holder_name
        problems = self.problems(values)
        if "accountHolderName" not in values and not any(f.key == "accountHolderName" for f in self.fields):
            problems["accountHolderName"] = "required"
        if problems:
            raise RecipientFormError(problems)
        return self._body(values, account_holder_name=values.get("accountHolderName"))

    def _body(self, values: dict[str, str], *, account_holder_name: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"currency": self.currency, "type": self.type}
        if self.profile is not None:
            body["profile"] = self.profile
        holder = account_holder_name or values.get("accountHolderName")
        if holder:
            body["accountHolderName"] = holder
        details: dict[str, Any] = {}
        for key, value in values.items():
            if key in _TOP_LEVEL:
                continue
            *parents, leaf = key.split(".")
            node = details
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = value
        body["details"] = details
        return body


class RecipientForms:
    """``wise.recipient_forms``: load the form for a quote."""

    def __init__(self, client: WiseClient) -> None:
        self._wise = client

    async def for_quote(
        self, quote_id: UUID | str, *, currency: str, profile: int | None = None
    ) -> RecipientForm:
        """The account-requirements form of ``quote_id`` (one request); ``currency`` is the quote's target
        currency and ``profile`` the recipient's owner, both for the body the form builds."""
        requirements = await self._wise.recipients.account_requirements_get(str(quote_id))
        return RecipientForm(
            self._wise, quote_id, currency=currency, profile=profile, requirements=requirements
        )
