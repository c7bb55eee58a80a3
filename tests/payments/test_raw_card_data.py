"""Raw card numbers are refused wherever they hide in a request body; tokens and last 4 pass."""

from __future__ import annotations

import pytest

from api.errors import ErrorCode, Unprocessable
from api.payments.service import looks_like_card_number, reject_raw_card_data


@pytest.mark.parametrize(
    "body",
    [
        {"paymentMethod": {"token": "4242424242424242"}},
        {"paymentMethod": {"token": "4242 4242 4242 4242"}},
        {"paymentMethod": {"token": "4000-0000-0000-0002"}},
        {"specialRequests": "my card is 5555 5555 5555 4444 thanks"},
        {"paymentMethod": {"token": 378282246310005}},
        {"notes": ["fine", {"deep": "371449635398431"}]},
        {"paymentMethod": {"number": "x"}},
        {"paymentMethod": {"cardNumber": "x"}},
        {"paymentMethod": {"card_number": "x"}},
        {"paymentMethod": {"cvc": "123"}},
        {"paymentMethod": {"CVV": "123"}},
        {"card": {"security-code": "123"}},
    ],
)
def test_card_numbers_and_card_fields_are_rejected(body):
    with pytest.raises(Unprocessable) as raised:
        reject_raw_card_data(body)
    assert raised.value.code == ErrorCode.RAW_CARD_REJECTED
    assert raised.value.status == 422
    # The answer names the field and never echoes the number.
    assert "4242" not in str(raised.value.details) and "5555" not in str(raised.value.details)


def test_the_rejection_names_the_field():
    with pytest.raises(Unprocessable) as raised:
        reject_raw_card_data({"paymentMethod": {"token": "4242424242424242"}})
    assert raised.value.details == {"field": "paymentMethod.token"}


@pytest.mark.parametrize(
    "body",
    [
        {
            "holdId": "5b0e7c4e-3f6a-4f0e-9a55-1f1f1f1f1f1f",
            "userId": "user_123",
            "paymentMethod": {"type": "credit-card", "last4": "4242", "cardBrand": "Visa", "token": "pm_card_visa"},
            "specialRequests": "Window seat please",
        },
        {"paymentMethod": {"paymentMethodId": "pm_1PqRsT2eZvKYlo2C0123abcd"}},
        {"phone": "+1 (555) 123-4567", "guests": 4, "confirmed": True},
        {"reference": "4242424242424241"},  # 16 digits, not Luhn-valid
        {"orderCode": "123456789012"},  # 12 digits: too short to be a card
        {"amount": 5000, "depositAmount": 50.0},
        # Ids whose digit runs pass the Luhn check (a random UUID sometimes does): never card data.
        {"holdId": "00000000-0000-0000-0000-000000000000", "userId": "42424242-4242-4242-4242-424242424242"},
        {},
        [],
        "pm_card_visa",
    ],
)
def test_tokens_last4_and_ordinary_fields_pass(body):
    reject_raw_card_data(body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4242424242424242", True),
        ("4242 4242 4242 4242", True),
        ("4000-0000-0000-0002", True),
        ("6011111111111117", True),
        ("3056930009020004", True),  # 16-digit Diners
        ("30569309025904", True),  # 14-digit Diners
        ("4242", False),
        ("4242424242424241", False),
        ("pm_card_visa", False),
    ],
)
def test_looks_like_card_number(text, expected):
    assert looks_like_card_number(text) is expected
