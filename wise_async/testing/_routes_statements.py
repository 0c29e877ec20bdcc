"""Balance statements (balanceStatementGet) in every format Wise serves.

``GET /v1/profiles/{profileId}/balance-statements/{balanceId}/statement.<suffix>`` with suffix json, csv,
pdf, xlsx, xml (CAMT.053), mt940 or qif; all are the one operation ``balanceStatementGet``, so the SCA
gate covers every format. Intervals are inclusive and at most 469 days (400 otherwise). Lines come from
``fake.seed_statement_transactions``; binary formats are small but recognisable files.
"""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._clock import format_iso
from ._http import FakeResponse, Rejection, errors_response, json_response
from ._routes_paging import query_time
from ._routes_profiles import owned_profile
from ._routing import Call, route
from ._store import Record, public

if TYPE_CHECKING:
    from ._fake import FakeWise

__all__ = ["CONTENT_TYPES", "MAX_STATEMENT_DAYS", "ROUTES"]

MAX_STATEMENT_DAYS = 469
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xml": "application/xml",
    "mt940": "text/plain",
    "qif": "application/qif",
}


def _statement_json(
    fake: FakeWise, profile: Record, balance_id: int, currency: str, start: float, end: float
) -> dict[str, Any]:
    lines = [line for line in fake.statement_transactions.get(balance_id, []) if start <= line["_at"] <= end]
    closing = lines[-1]["runningBalance"]["value"] if lines else 0.0
    before = [line for line in fake.statement_transactions.get(balance_id, []) if line["_at"] < start]
    if not lines and before:
        closing = before[-1]["runningBalance"]["value"]
    address = profile.get("address") or {}
    return {
        "accountHolder": {
            "type": profile.get("type", "PERSONAL"),
            "address": {
                "addressFirstLine": address.get("addressFirstLine", ""),
                "city": address.get("city", ""),
                "postCode": address.get("postCode", ""),
                "stateCode": address.get("stateCode") or "",
                "countryName": "United Kingdom",
            },
            "firstName": profile.get("firstName", ""),
            "lastName": profile.get("lastName", ""),
        },
        "issuer": {
            "name": "Wise Payments Ltd.",
            "firstLine": "1st Floor, Worship Square, 65 Clifton Street",
            "city": "London",
            "postCode": "EC2A 4JE",
            "stateCode": "",
            "country": "United Kingdom",
        },
        "bankDetails": None,
        "transactions": [public(line) for line in lines],
        "endOfStatementBalance": {"value": closing, "currency": currency},
        "query": {
            "intervalStart": format_iso(start, millis=True),
            "intervalEnd": format_iso(end, millis=True),
            "currency": currency,
            "accountId": balance_id,
        },
    }


def _csv(statement: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["TransferWise ID", "Date", "Amount", "Currency", "Description", "Running Balance"])
    for line in statement["transactions"]:
        writer.writerow(
            [
                line["referenceNumber"],
                line["date"][:10],
                f"{line['amount']['value']:.2f}",
                line["amount"]["currency"],
                line["details"]["description"],
                f"{line['runningBalance']['value']:.2f}",
            ]
        )
    return out.getvalue().encode()


def _pdf(statement: dict[str, Any]) -> bytes:
    query = statement["query"]
    text = (
        f"FakeWise balance statement {query['accountId']} {query['currency']} "
        f"{query['intervalStart']} - {query['intervalEnd']}: {len(statement['transactions'])} transactions"
    )
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        + f"% {text}\n".encode()
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _xlsx(statement: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/worksheets/sheet1.csv", _csv(statement))
    return buffer.getvalue()


def _camt053(statement: dict[str, Any]) -> bytes:
    query = statement["query"]
    entries = "".join(
        f"<Ntry><NtryRef>{line['referenceNumber']}</NtryRef>"
        f'<Amt Ccy="{line["amount"]["currency"]}">{abs(line["amount"]["value"]):.2f}</Amt>'
        f"<CdtDbtInd>{'CRDT' if line['type'] == 'CREDIT' else 'DBIT'}</CdtDbtInd>"
        f"<BookgDt><DtTm>{line['date']}</DtTm></BookgDt></Ntry>"
        for line in statement["transactions"]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
        f"<Id>{query['accountId']}</Id><FrToDt><FrDtTm>{query['intervalStart']}</FrDtTm>"
        f"<ToDtTm>{query['intervalEnd']}</ToDtTm></FrToDt>{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _mt940(statement: dict[str, Any]) -> bytes:
    query = statement["query"]
    lines = [f":20:{query['accountId']}", f":25:{query['accountId']}/{query['currency']}", ":28C:1"]
    for line in statement["transactions"]:
        value = Decimal(str(line["amount"]["value"]))
        date = line["date"][2:10].replace("-", "")
        mark = "C" if value >= 0 else "D"
        lines.append(f":61:{date}{mark}{abs(value):.2f}".replace(".", ",") + f"NTRF{line['referenceNumber']}")
        lines.append(f":86:{line['details']['description']}")
    closing = Decimal(str(statement["endOfStatementBalance"]["value"]))
    lines.append(
        f":62F:{'C' if closing >= 0 else 'D'}{query['intervalEnd'][2:10].replace('-', '')}"
        f"{query['currency']}{abs(closing):.2f}".replace(".", ",")
    )
    return ("\r\n".join(lines) + "\r\n-").encode()


def _qif(statement: dict[str, Any]) -> bytes:
    lines = ["!Type:Bank"]
    for line in statement["transactions"]:
        lines += [
            f"D{line['date'][:10]}",
            f"T{line['amount']['value']:.2f}",
            f"P{line['details']['description']}",
        ]
        lines += [f"N{line['referenceNumber']}", "^"]
    return ("\n".join(lines) + "\n").encode()


_RENDERERS = {"csv": _csv, "pdf": _pdf, "xlsx": _xlsx, "xml": _camt053, "mt940": _mt940, "qif": _qif}


@route(
    "GET",
    "/v1/profiles/{profileId}/balance-statements/{balanceId}/statement.{suffix}",
    "balanceStatementGet",
    "user",
)
def balance_statement_get(fake: FakeWise, call: Call) -> FakeResponse:
    suffix = call.params["suffix"]
    if suffix not in CONTENT_TYPES:
        raise Rejection(errors_response(404, "NOT_FOUND", f"No statement format {suffix!r}."))
    profile = owned_profile(fake, call, call.int_param("profileId"))
    balance_id = call.int_param("balanceId")
    owner = fake.balance_of_id(balance_id)
    if owner is None or owner[0] != profile["id"]:
        raise Rejection(errors_response(404, "NOT_FOUND", f"Balance {balance_id} not found.", "balanceId"))
    currency = call.request.param("currency")
    if not currency:
        raise Rejection(errors_response(400, "NOT_VALID", "currency is required.", "currency"))
    if currency.upper() != owner[1]:
        raise Rejection(
            errors_response(400, "NOT_VALID", f"Balance {balance_id} is not {currency}.", "currency")
        )
    start = query_time(call, "intervalStart", required=True)
    end = query_time(call, "intervalEnd", required=True)
    assert start is not None and end is not None
    if end < start:
        raise Rejection(
            errors_response(400, "NOT_VALID", "intervalEnd is before intervalStart.", "intervalEnd")
        )
    if end - start > MAX_STATEMENT_DAYS * 86_400:
        raise Rejection(
            errors_response(
                400,
                "NOT_VALID",
                f"The period between intervalStart and intervalEnd cannot exceed {MAX_STATEMENT_DAYS} days.",
                "intervalEnd",
            )
        )
    statement = _statement_json(fake, profile, balance_id, owner[1], start, end)
    if suffix == "json":
        return json_response(200, statement)
    body = _RENDERERS[suffix](statement)
    headers = {"content-type": CONTENT_TYPES[suffix]}
    if suffix != "json":
        headers["content-disposition"] = f'attachment; filename="statement_{balance_id}.{suffix}"'
    return FakeResponse(200, body, headers)


ROUTES = [balance_statement_get]
