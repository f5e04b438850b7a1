"""Street matching on real-looking 金牛区 addresses."""

from __future__ import annotations

import pytest

from assistant.preservice.streets import StreetDirectory


@pytest.fixture(scope="module")
def streets() -> StreetDirectory:
    return StreetDirectory.load()


@pytest.mark.parametrize("address,street", [
    ("成都市金牛区营康西路12号附3号", "营门口街道"),
    ("金牛区花照壁中横街8号2栋1单元302", "营门口街道"),
    ("花照壁社区5栋", "营门口街道"),
    ("四川省成都市金牛区抚琴西南路5号", "抚琴街道"),
    ("抚琴东北路12号院", "抚琴街道"),
    ("西安中路66号", "西安路街道"),
    ("通锦路9号1栋", "西安路街道"),
    ("九里堤中路1号", "九里堤街道"),
    ("交大路183号 西南交大旁边", "九里堤街道"),
    ("金牛区一品天下大街399号", "茶店子街道"),
    ("茶店子东街20号", "茶店子街道"),
    ("蜀西路42号", None),  # crosses 茶店子 and 金泉 → ambiguous
    ("金泉路8号", "金泉街道"),
    ("土龙路18号", "金泉街道"),
    ("荷花池市场A区", "荷花池街道"),
    ("解放路二段199号", "荷花池街道"),
    ("驷马桥二路10号", "驷马桥街道"),
    ("人民北路二段56号", "人民北路街道"),
    ("星辉西路7号", "人民北路街道"),
    ("五块石路3号", "五块石街道"),
    ("银沙路22号附1号", "五块石街道"),
    ("蓉都大道天回路368号", "天回镇街道"),
    ("天回镇大街6号", "天回镇街道"),
    ("蓉北商贸大道二段8号", "凤凰山街道"),
    ("洞子口路5号", "沙河源街道"),
    ("西华大道16号", "西华街道"),
    ("住在营门口街道银河社区", "营门口街道"),
])
def test_addresses_match_their_street(streets, address, street):
    m = streets.match(address)
    assert (m.street.name if m.street else None) == street, (address, m)


def test_a_road_across_several_streets_is_ambiguous_not_a_guess(streets):
    m = streets.match("金牛区蜀汉路88号")
    assert m.street is None and m.reason == "ambiguous" and m.term == "蜀汉路"
    assert {"营门口街道", "西华街道", "茶店子街道"} <= {s.name for s in m.candidates}


@pytest.mark.parametrize("address", ["武侯区人民南路四段1号", "成都市成华区建设路5号", "高新区天府大道中段"])
def test_other_districts_are_outside(streets, address):
    m = streets.match(address)
    assert m.street is None and m.reason == "outside"


def test_unknown_address(streets):
    m = streets.match("某某路1号")
    assert m.street is None and m.reason == "unknown"


def test_street_by_short_name(streets):
    assert streets.get("营门口").name == "营门口街道"
    assert streets.get("抚琴街道").name == "抚琴街道"
    assert streets.get("春熙路") is None
    assert len(streets.names) >= 13
