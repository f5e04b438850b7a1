"""The WeChat XML parser refuses every DTD/entity construct (XXE impossible) and parses real messages."""

from __future__ import annotations

import pytest

from assistant.channels.wechat.xml import XMLRefused, build_xml, parse_wechat_xml


def test_parses_a_text_message_and_nested_event():
    msg = parse_wechat_xml(
        b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
        b"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        b"<Content><![CDATA[<b>\xe5\x8a\x9e\xe8\xaf\x81</b> & x]]></Content><MsgId>123</MsgId>"
        b"<ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>1</ScanResult></ScanCodeInfo></xml>")
    assert msg["Content"] == "<b>办证</b> & x"
    assert msg["MsgId"] == "123"
    assert msg["ScanCodeInfo"] == {"ScanType": "qrcode", "ScanResult": "1"}


@pytest.mark.parametrize("body", [
    # classic XXE: external entity reading a local file
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<xml><Content>&xxe;</Content></xml>",
    # external DTD fetch
    b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:1/evil.dtd"><xml><Content>x</Content></xml>',
    # parameter entity
    b'<!DOCTYPE xml [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><xml/>',
    # billion laughs
    b'<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b"<xml><Content>&b;</Content></xml>",
    b"<?evil pi?><xml/>",
    b"<xml><Content>unclosed</xml>",
    b"<notxml><a>1</a></notxml>",
    b"<xml><a><b><c><d><e>deep</e></d></c></b></a></xml>",
    b"<xml>" + b"<a>1</a>" * 500 + b"</xml>",
    b"\xff\xfe garbage",
    b"",
])
def test_refuses_dtd_entities_and_malformed(body):
    with pytest.raises(XMLRefused):
        parse_wechat_xml(body)


def test_undeclared_entity_is_an_error_not_an_expansion():
    with pytest.raises(XMLRefused):
        parse_wechat_xml(b"<xml><Content>&xxe;</Content></xml>")


def test_build_escapes_cdata_end():
    out = build_xml({"Content": "a]]>b<c>", "CreateTime": 5})
    assert parse_wechat_xml(out) == {"Content": "a]]>b<c>", "CreateTime": "5"}
