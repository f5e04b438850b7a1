"""What citizens type into the forms: dates, expiry, phones, half-days, licence numbers."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.preservice.renewals import RenewalCatalogue
from assistant.preservice.validation import (InvalidValue, parse_date, parse_expiry, parse_half_day, parse_phone,
                                             normalize_licence_number)

TODAY = date(2026, 12, 1)  # a Tuesday


@pytest.mark.parametrize("text,expected", [
    ("2027-03-15", date(2027, 3, 15)),
    ("2027/3/5", date(2027, 3, 5)),
    ("2027年3月15日", date(2027, 3, 15)),
    ("有效期至2027年03月15号", date(2027, 3, 15)),
    ("20270315", date(2027, 3, 15)),
    ("二〇二七年三月十五日", date(2027, 3, 15)),
    ("２０２７－０３－１５", date(2027, 3, 15)),
    ("3月15日", date(2027, 3, 15)),       # no year: the next 3月15日
    ("12月20日", date(2026, 12, 20)),
    ("2028-02-29", date(2028, 2, 29)),    # a leap day that exists
])
def test_dates_as_people_write_them(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text,needle", [
    ("2027年2月30日", "没有30日"),
    ("2027-02-29", "没有29日"),          # 2027 is not a leap year
    ("2027-04-31", "没有31日"),
    ("2027-13-01", "13月不是有效的月份"),
    ("2027年3月", "日子也告诉我"),
    ("明年春天", "没看懂"),
])
def test_impossible_or_vague_dates_are_refused_with_a_reason(text, needle):
    with pytest.raises(InvalidValue) as exc:
        parse_date(text, TODAY)
    assert needle in str(exc.value)


def test_expiry_must_be_in_the_future_and_plausible():
    assert parse_expiry("2027-06-30", TODAY) == date(2027, 6, 30)
    with pytest.raises(InvalidValue, match="已经到期"):
        parse_expiry("2026-11-30", TODAY)
    with pytest.raises(InvalidValue, match="已经到期"):
        parse_expiry("2026-12-01", TODAY)  # today
    with pytest.raises(InvalidValue, match="超过10年"):
        parse_expiry("2040-01-01", TODAY)


@pytest.mark.parametrize("text,expected", [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
    ("028-87654321", "028-87654321"), ("（028）87654321", "028-87654321"), ("手机：15908001234", "15908001234"),
])
def test_phone_numbers(text, expected):
    assert parse_phone(text) == expected


@pytest.mark.parametrize("text", ["12345", "23812345678", "1381234567", "电话号码忘了", "87654321"])
def test_bad_phone_numbers(text):
    with pytest.raises(InvalidValue, match="电话号码好像不对"):
        parse_phone(text)


@pytest.mark.parametrize("text,expected", [
    ("明天上午", (date(2026, 12, 2), "上午")),
    ("后天下午", (date(2026, 12, 3), "下午")),
    ("周五上午", (date(2026, 12, 4), "上午")),
    ("下周一下午", (date(2026, 12, 7), "下午")),
    ("12月10日上午", (date(2026, 12, 10), "上午")),
    ("2026-12-11 下午", (date(2026, 12, 11), "下午")),
])
def test_half_days(text, expected):
    assert parse_half_day(text, TODAY) == expected


@pytest.mark.parametrize("text,needle", [
    ("周六上午", "周末"), ("今天下午", "最早只能约明天"), ("明天", "上午还是下午"), ("2027-03-01 上午", "30天以内"),
    ("随便哪天", "哪天上午或下午"),
])
def test_bad_half_days(text, needle):
    with pytest.raises(InvalidValue, match=needle):
        parse_half_day(text, TODAY)


def test_licence_number_formats_per_type():
    cat = RenewalCatalogue.load()
    food = cat.get("food_business")
    assert food.check_number("jy1 5101 0600 1234 5") == "JY15101060012345"
    with pytest.raises(InvalidValue, match="例如 JY15101060012345"):
        food.check_number("JY123")
    tobacco = cat.get("tobacco_retail")
    assert tobacco.check_number("510106 107788") == "510106107788"
    with pytest.raises(InvalidValue, match="编号格式不对"):
        tobacco.check_number("51010610778")
    hygiene = cat.get("public_place_hygiene")  # no known format: anything plausible
    assert hygiene.check_number("川卫公证字[2023]第510106000123号")
    with pytest.raises(InvalidValue, match="不像"):
        hygiene.check_number("不知道")
    assert normalize_licence_number("编号：JY1-5101") == "JY15101"


@pytest.mark.parametrize("text,kind", [
    ("JY1 5101 0600 1234 5", "ok"), ("SM261201AB3K", "ok"), ("510106107788", "ok"),
    ("SM-XKQW-ZRTB-MNHP-VY", "ok"), ("smxkqwzrtbmnhpvy", "ok"),   # booking numbers with few or no digits
    ("hello, how to get a licence?", "non_chinese"), ("licence 2027", "non_chinese"),
])
def test_codes_typed_as_answers_are_not_refused_as_foreign_text(text, kind):
    from assistant.chat import normalize_input

    assert normalize_input(text).kind == kind
