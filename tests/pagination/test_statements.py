"""Balance statements: range splitting, JSON merge, every binary format, and the SCA path."""

from __future__ import annotations

import datetime
import itertools
import urllib.parse
import zipfile
from io import BytesIO

import pytest
from wise_api.models.balance_statement_get_response_200 import BalanceStatementGetResponse200

from wise_async import ScaRequiredError, WiseClient
from wise_async.statements import (
    MAX_STATEMENT_DAYS,
    STATEMENT_SUFFIXES,
    merge_statements,
    statement_ranges,
)
from wise_async.testing import FakeWise

UTC = datetime.timezone.utc
START = datetime.datetime(2023, 1, 1, tzinfo=UTC)
END = datetime.datetime(2025, 6, 30, 23, 59, 59, 999000, tzinfo=UTC)  # 911 days: two windows
ONE_MS = datetime.timedelta(milliseconds=1)


def intervals(fake: FakeWise) -> list[tuple[str, str, str]]:
    found = []
    for record in fake.calls("balanceStatementGet"):
        q = dict(urllib.parse.parse_qsl(record.query))
        if record.status == 200:
            found.append((record.path.rsplit(".", 1)[1], q["intervalStart"], q["intervalEnd"]))
    return found


# ----------------------------------------------------------------------------- ranges


def test_ranges_within_the_limit_are_one_window() -> None:
    end = START + datetime.timedelta(days=MAX_STATEMENT_DAYS)
    assert statement_ranges(START, end) == [(START, end)]


def test_long_ranges_are_split_without_gap_or_overlap() -> None:
    windows = statement_ranges(START, END)
    assert len(windows) == 2
    assert windows[0] == (START, START + datetime.timedelta(days=469))
    assert windows[1] == (windows[0][1] + ONE_MS, END)
    ten_years = statement_ranges(START, START + datetime.timedelta(days=3650))
    assert len(ten_years) == 8
    assert all(b[0] - a[1] == ONE_MS for a, b in itertools.pairwise(ten_years))
    assert all(e - s <= datetime.timedelta(days=469) for s, e in ten_years)


def test_ranges_treat_naive_times_as_utc_and_reject_reversed_ones() -> None:
    naive = datetime.datetime(2024, 1, 1)
    assert statement_ranges(naive, naive) == [(naive.replace(tzinfo=UTC),) * 2]
    with pytest.raises(ValueError, match="before its start"):
        statement_ranges(END, START)
    with pytest.raises(ValueError):
        statement_ranges(START, END, max_days=0)


def _statement(
    dates: list[str], refs: list[str], closing: float, start: str, end: str
) -> BalanceStatementGetResponse200:
    return BalanceStatementGetResponse200.from_dict(
        {
            "transactions": [
                {"date": d, "referenceNumber": r, "amount": {"value": 1, "currency": "EUR"}}
                for d, r in zip(dates, refs, strict=True)
            ],
            "endOfStatementBalance": {"value": closing, "currency": "EUR"},
            "query": {"intervalStart": start, "intervalEnd": end, "currency": "EUR", "accountId": 1},
        }
    )


def test_merge_keeps_the_order_wise_uses_and_drops_duplicates() -> None:
    newest_first = [
        _statement(
            ["2023-03-01T00:00:00Z", "2023-02-01T00:00:00Z"],
            ["B", "A"],
            2,
            "2023-01-01T00:00:00Z",
            "2023-06-01T00:00:00Z",
        ),
        _statement(
            ["2023-08-01T00:00:00Z", "2023-07-01T00:00:00Z", "2023-06-01T00:00:00Z"],
            ["E", "D", "B"],
            5,
            "2023-06-01T00:00:00.001Z",
            "2023-12-31T00:00:00Z",
        ),
    ]
    merged = merge_statements(newest_first)
    assert [t.reference_number for t in merged.transactions] == ["E", "D", "B", "A"]
    assert merged.end_of_statement_balance.value == 5
    assert merged.query.interval_start.isoformat() == "2023-01-01T00:00:00+00:00"
    assert merged.query.interval_end.isoformat() == "2023-12-31T00:00:00+00:00"
    with pytest.raises(ValueError):
        merge_statements([])


# ----------------------------------------------------------------------------- through the fake


async def test_json_over_469_days_is_split_and_merged(
    fake: FakeWise, signing_wise: WiseClient, profile_id: int
) -> None:
    balance = fake.seed_statement_transactions(60, start=START, end=END)
    statement = await signing_wise.statements.get(profile_id, balance, currency="EUR", start=START, end=END)
    assert isinstance(statement, BalanceStatementGetResponse200)
    assert len(statement.transactions) == 60
    dates = [t.date for t in statement.transactions]
    assert dates == sorted(dates) and dates[0] == START and dates[-1] == END
    assert statement.end_of_statement_balance.value == 30 * 100 - 30 * 40
    assert (statement.query.interval_start, statement.query.interval_end) == (START, END)
    windows = intervals(fake)
    assert len(windows) == 2 and {w[0] for w in windows} == {"json"}


@pytest.mark.parametrize(
    ("format", "magic"),
    [
        ("csv", b"TransferWise ID,Date"),
        ("pdf", b"%PDF-"),
        ("xlsx", b"PK\x03\x04"),
        ("camt053", b'<?xml version="1.0"'),
        ("mt940", b":20:"),
        ("qif", b"!Type:Bank"),
    ],
)
async def test_binary_formats_return_bytes(
    fake: FakeWise, signing_wise: WiseClient, profile_id: int, format: str, magic: bytes
) -> None:
    balance = fake.seed_statement_transactions(10, start=START, end=START + datetime.timedelta(days=100))
    content = await signing_wise.statements.get(
        profile_id,
        balance,
        currency="EUR",
        start=START,
        end=START + datetime.timedelta(days=100),
        format=format,  # type: ignore[arg-type]
    )
    assert isinstance(content, bytes) and content.startswith(magic)
    assert intervals(fake)[0][0] == STATEMENT_SUFFIXES[format]
    if format == "xlsx":
        assert zipfile.ZipFile(BytesIO(content)).namelist()
    if format == "camt053":
        assert b"camt.053" in content


async def test_a_binary_format_over_the_limit_comes_in_parts(
    fake: FakeWise, signing_wise: WiseClient, profile_id: int
) -> None:
    balance = fake.seed_statement_transactions(20, start=START, end=END)
    with pytest.raises(ValueError, match="get_parts"):
        await signing_wise.statements.get(
            profile_id, balance, currency="EUR", start=START, end=END, format="pdf"
        )
    assert fake.calls("balanceStatementGet") == []
    parts = await signing_wise.statements.get_parts(
        profile_id, balance, currency="EUR", start=START, end=END, format="csv"
    )
    assert [(p.start, p.end) for p in parts] == statement_ranges(START, END)
    rows = sum(p.content.count(b"\r\n") - 1 for p in parts)  # minus each file's header
    assert rows == 20


async def test_statements_are_sca_protected_and_resumable(
    fake: FakeWise, wise: WiseClient, profile_id: int
) -> None:
    balance = fake.seed_statement_transactions(4, start=START, end=START + datetime.timedelta(days=10))
    end = START + datetime.timedelta(days=10)
    with pytest.raises(ScaRequiredError) as caught:
        await wise.statements.get(profile_id, balance, currency="EUR", start=START, end=end, format="qif")
    assert caught.value.one_time_token == fake.last_ott
    fake.approve_ott(caught.value.one_time_token)  # the partner flow: challenges cleared elsewhere
    content = await caught.value.resume()
    assert isinstance(content, bytes) and content.startswith(b"!Type:Bank")
    assert [r.status for r in fake.calls("balanceStatementGet")] == [403, 200]
    assert fake.calls("balanceStatementGet")[1].path.endswith("/statement.qif")

    with pytest.raises(ScaRequiredError) as caught:
        await wise.statements.get(profile_id, balance, currency="EUR", start=START, end=end)
    fake.approve_ott(caught.value.one_time_token)
    statement = await caught.value.resume()
    assert isinstance(statement, BalanceStatementGetResponse200) and len(statement.transactions) == 4


async def test_statement_options_are_sent(fake: FakeWise, signing_wise: WiseClient, profile_id: int) -> None:
    balance = fake.seed_statement_transactions(2, start=START, end=START + datetime.timedelta(days=1))
    await signing_wise.statements.get(
        profile_id,
        balance,
        currency="EUR",
        start=START,
        end=START + datetime.timedelta(days=1),
        type="FLAT",
        locale="de",
    )
    q = dict(urllib.parse.parse_qsl(fake.calls("balanceStatementGet")[-1].query))
    assert (q["type"], q["statementLocale"], q["currency"]) == ("FLAT", "de", "EUR")
    with pytest.raises(ValueError, match="unknown statement format"):
        await signing_wise.statements.get(
            profile_id,
            balance,
            currency="EUR",
            start=START,
            end=START,
            format="docx",  # type: ignore[call-overload]
        )
