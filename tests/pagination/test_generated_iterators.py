"""The iterators and their paging table come from the spec (codegen/paging.py), typed like the facade."""

from __future__ import annotations

import inspect

from wise_api.iterators import PagedIterators
from wise_api.paging import PAGED

from wise_async import WiseClient
from wise_async.pagination import PAGING_STYLES


def test_every_paged_operation_has_a_style_and_a_typed_iterator() -> None:
    assert (
        set(PAGED)
        == set(PAGING_STYLES)
        == {
            "recipientList",
            "activityList",
            "transferList",
            "cardTransactionList",
            "cardList",
            "cardOrderList",
            "disputeList",
            "kycReviewList",
        }
    )
    iterators = [name for name in vars(PagedIterators) if name.startswith("iter_")]
    assert len(iterators) == len(PAGED)
    wise = WiseClient(personal_token="t")
    for name in iterators:
        method = getattr(wise, name)
        kinds = [p.kind for p in inspect.signature(method).parameters.values()]
        assert inspect.Parameter.VAR_KEYWORD not in kinds, name  # no **filters: Any
        assert "max_items" in inspect.signature(method).parameters, name


def test_only_the_filters_given_are_sent_with_the_largest_page() -> None:
    wise = WiseClient(personal_token="t")
    paginator = wise.iter_activities(1, status="COMPLETED")
    # the spec's default size (10) is the facade's, not the paginator's: it asks for the largest page
    assert dict(paginator.params) == {"status": "COMPLETED", "size": 100}
    assert paginator.args == (1,)
