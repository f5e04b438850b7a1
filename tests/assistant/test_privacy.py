"""mask_pii: ID numbers, mobiles, landlines and addresses are masked; codes, dates, amounts are not."""

from __future__ import annotations

import io
import json
import logging

import pytest

from assistant.logging import JsonFormatter, log_event
from assistant.privacy import PIIMaskingFilter, mask_pii

MASKED = [
    # (text, fragment that must disappear, fragment that must remain)
    ("我的身份证号是510106199003071234", "510106199003071234", "510"),
    ("身份证：51010619851231002X，请核对", "51010619851231002X", "X"),
    ("身份证 51010619851231002x", "51010619851231002x", "身份证"),
    ("证件号 510106 19900307 1234", "19900307", "证件号"),
    ("老身份证号510106900307123", "510106900307123", "老身份证号"),
    ("电话13812345678", "13812345678", "138****5678"),
    ("手机：139 1234 5678", "139 1234 5678", "139****5678"),
    ("手机 186-2834-9911 找王姐", "186-2834-9911", "186****9911"),
    ("+86 15928001234", "15928001234", "159****1234"),
    ("8613908176543联系", "13908176543", "139****6543"),
    ("打座机028-87654321", "87654321", "028-"),
    ("座机 (028)8765 4321 转 12", "8765 4321", "(028)"),
    ("办公电话0838-2345678", "2345678", "0838-"),
    ("02887654321有人接", "87654321", "028"),
    ("我住金牛区蜀汉路88号5栋2单元301室", "88号", "蜀汉路"),
    ("地址是一环路北三段12号附3号", "12号", "一环路北三段"),
    ("营门口路9号院2栋1单元", "9号", "营门口路"),
    ("在洞子口巷7号", "7号", "洞子口巷"),
    ("金房苑3栋2单元501", "3栋", "金房苑"),
    ("住在枣子巷社区 12幢3单元4楼", "12幢", "社区"),
    ("3栋2单元501室", "501", ""),
    ("西华大道16号", "16号", "西华大道"),
]

UNCHANGED = [
    "事项编码51201200200013",
    "目录编码512012002012和511A0138000000",
    "2026年11月26日上午9点到12点办理",
    "工本费20元，15个工作日办结",
    "地铁5号线到一品天下站",
    "请到3号窗口取号",
    "工单号 12345",
    "订单20261126123456789012",
    "金额 1380000 元",
    "我今年65岁，养老金认证咋整",
    "营业执照统一社会信用代码 92510106MA6CXXXX1A",
    "",
]


@pytest.mark.parametrize("text,gone,kept", MASKED)
def test_masks_personal_data(text, gone, kept):
    out = mask_pii(text)
    assert gone not in out, out
    assert kept in out, out
    assert "*" in out


@pytest.mark.parametrize("text", UNCHANGED)
def test_leaves_non_personal_text_alone(text):
    assert mask_pii(text) == text


def test_several_items_in_one_text_and_idempotence():
    text = "张三，身份证510106199003071234，手机13812345678，住蜀汉路88号，座机028-87654321"
    once = mask_pii(text)
    for secret in ("510106199003071234", "13812345678", "88号", "87654321"):
        assert secret not in once
    assert mask_pii(once) == once
    assert once.startswith("张三")


def test_non_strings_pass_through():
    assert mask_pii(None) is None  # type: ignore[arg-type]


def test_logging_filter_masks_message_args_fields_and_exceptions():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PIIMaskingFilter())
    logger = logging.getLogger("jxe.test.privacy")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("user said %s", "我的电话13812345678")
        log_event(logger, "chat.turn.completed", text="身份证510106199003071234", n=3)
        try:
            raise ValueError("bad phone 13912345678")
        except ValueError:
            logger.exception("failed for 028-87654321")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    for secret in ("13812345678", "510106199003071234", "13912345678", "87654321"):
        assert secret not in out
    lines = [json.loads(x) for x in out.strip().splitlines()]
    assert lines[1]["event"] == "chat.turn.completed" and lines[1]["n"] == 3
    assert "138****5678" in lines[0]["event"]
    assert "exc" in lines[2] and "139****5678" in lines[2]["exc"]
