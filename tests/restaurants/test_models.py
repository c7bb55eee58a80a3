"""Pure rules on the restaurant model: the refund policy in words."""

from __future__ import annotations

import pytest

from api.restaurants.models import DEFAULT_REFUND_POLICY, describe_refund_policy


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (
            DEFAULT_REFUND_POLICY,
            "Full refund 24+ hours before your reservation; 50% refund 4-24 hours before; no refund within 4 hours.",
        ),
        (
            [{"minHoursBefore": 4, "percent": 50}, {"minHoursBefore": 24, "percent": 100}],  # any order
            "Full refund 24+ hours before your reservation; 50% refund 4-24 hours before; no refund within 4 hours.",
        ),
        (
            [{"minHoursBefore": 48, "percent": 100}, {"minHoursBefore": 0, "percent": 25}],
            "Full refund 48+ hours before your reservation; 25% refund within 48 hours.",
        ),
        ([{"minHoursBefore": 0, "percent": 100}], "Full refund up to your reservation time."),
        ([], "Deposits are not refundable."),
    ],
)
def test_refund_policy_reads_as_a_sentence(policy, text):
    assert describe_refund_policy(policy) == text
