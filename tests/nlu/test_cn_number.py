"""Numbers written in Chinese (nlu.text.cn_number): dates in the pre-service forms, years told in a conversation."""

from __future__ import annotations

import pytest

from nlu.text import cn_number


@pytest.mark.parametrize("text, value", [("5", 5), ("十", 10), ("十二", 12), ("二十", 20), ("三十一", 31),
                                         ("两", 2), ("二〇二七", 2027), ("二零二七", 2027)])
def test_numbers_are_read(text, value):
    assert cn_number(text) == value


@pytest.mark.parametrize("text", ["", "几", "十几", "多", "十十"])
def test_what_is_no_number_is_refused(text):
    with pytest.raises(ValueError):
        cn_number(text)
