"""The halls' own knowledge: the committed hall data, its loader and validation, the hall-question recogniser,
answers and cards. Every phrasing here is written for this test (none comes from the evaluation set)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from knowledge.errors import Issue
from knowledge.hall_questions import (TEXTS, HallTopic, answer_question, answer_text, classify_hall_question,
                                      hall_card)
from knowledge.halls import (HALLS_FILE, PENDING, STREETS_FILE, Hall, HallDataError, HallDirectory, check_halls,
                             read_streets)
from knowledge.validate import validate
from tests.knowledge.conftest import REPO_ROOT

T = HallTopic


@pytest.fixture(scope="module")
def halls() -> HallDirectory:
    return HallDirectory.load()


# --- the committed data ------------------------------------------------------------------------------------------

def test_committed_hall_data_is_clean():
    assert check_halls() == []


def test_every_street_has_exactly_one_centre(halls):
    streets, issues = read_streets()
    assert issues == [] and len(streets) >= 13
    centres = halls.street_halls()
    assert sorted(h.street for h in centres) == sorted(s.name for s in streets)
    for s in streets:
        hall = halls.for_street(s.name)
        assert hall is not None and hall.level == "街道便民服务中心" and hall.name == f"{s.name}便民服务中心"
        for alias in s.aliases:
            assert halls.for_street(alias) is hall


def test_district_hall(halls):
    d = halls.district()
    assert d.name == "金牛区政务服务中心" and d.level == "区政务大厅" and d.street is None
    assert halls.get("jinniu-district") is d
    assert len(halls.halls) == len(halls.street_halls()) + 1


def test_sample_content_is_marked_unverified(halls):
    text = HALLS_FILE.read_text(encoding="utf-8")
    assert "SAMPLE CONTENT, NOT VERIFIED" in text
    for hall in halls.halls:
        assert hall.verified is False
        assert hall.address and hall.hours.weekday
        # what nobody has checked says so instead of looking precise
        assert PENDING in hall.address and PENDING in hall.phone


def test_one_list_of_streets():
    """The street matcher and the halls read the same file; the old copy under assistant/ is gone."""
    from assistant.preservice.streets import STREETS_FILE as matcher_file
    from assistant.preservice.streets import StreetDirectory

    assert Path(matcher_file) == STREETS_FILE
    assert not (REPO_ROOT / "assistant" / "preservice" / "data" / "jinniu_streets.yml").exists()
    assert StreetDirectory.load().names == [s.name for s in read_streets()[0]]


def test_knowledge_imports_nothing_of_the_app():
    for path in (REPO_ROOT / "knowledge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in {"assistant", "nlu", "voice"}, (path, name)


@pytest.mark.parametrize("text,hall", [
    ("营门口便民中心几点关门", "营门口街道便民服务中心"),
    ("去营门口街道办事处那边办", "营门口街道便民服务中心"),
    ("天回的便民服务中心在哪儿", "天回镇街道便民服务中心"),
    ("我住抚琴西路，那边中心停车好停不", "抚琴街道便民服务中心"),
    ("区政务中心礼拜六开不开", "金牛区政务服务中心"),
    ("金牛区政务服务中心在驷马桥附近吗", "金牛区政务服务中心"),
    ("政务大厅有没有轮椅", "金牛区政务服务中心"),
    ("人民北路街道便民服务中心电话", "人民北路街道便民服务中心"),
])
def test_find_a_hall_in_free_text(halls, text, hall):
    found = halls.find(text)
    assert found is not None and found.name == hall


@pytest.mark.parametrize("text", ["几点开门", "营业执照咋个办", "金牛", ""])
def test_find_nothing(halls, text):
    assert halls.find(text) is None


def test_for_street_unknown(halls):
    assert halls.for_street("春熙路") is None and halls.for_street("") is None


# --- loader and validation ---------------------------------------------------------------------------------------

STREETS = """\
version: 1
streets:
  - name: 甲街道
    aliases: [甲]
  - name: 乙街道
"""

HALLS = """\
version: 1
streets_file: jinniu_streets.yml
street_defaults:
  address: '{street}辖区内（待核实）'
  hours:
    weekday: 周一至周五 9:00-17:00
halls:
  - id: district
    name: 测试区政务服务中心
    level: 区政务大厅
    aliases: [区政务中心]
    address: 某路1号
    hours:
      weekday: 周一至周五 9:00-12:00
    verified: false
  - id: jia
    name: 甲街道便民服务中心
    level: 街道便民服务中心
    street: 甲街道
  - id: yi
    name: 乙街道便民服务中心
    level: 街道便民服务中心
    street: 乙街道
"""


def write(tmp_path: Path, halls: str = HALLS, streets: str = STREETS) -> Path:
    (tmp_path / "jinniu_streets.yml").write_text(streets, encoding="utf-8")
    path = tmp_path / "halls.yml"
    path.write_text(halls, encoding="utf-8")
    return path


def shown(issues: list[Issue]) -> list[tuple[int, str, str]]:
    return [(i.line, i.field, i.message) for i in issues]


def test_a_good_file_loads_with_street_defaults(tmp_path):
    d = HallDirectory.load(write(tmp_path))
    jia = d.for_street("甲")
    assert jia.address == "甲街道辖区内（待核实）" and jia.hours.weekday == "周一至周五 9:00-17:00"
    assert d.district().hours.weekday == "周一至周五 9:00-12:00"  # defaults are for street centres only
    assert d.find("甲街道那边几点开门") is jia and d.find("甲那边") is None  # one-character aliases are too short


def test_a_street_without_centre(tmp_path):
    path = write(tmp_path, HALLS.split("  - id: yi")[0])
    issues = check_halls(path)
    assert shown(issues) == [(7, "halls", "乙街道 (in jinniu_streets.yml:5) has no 便民服务中心 here")]
    assert str(issues[0]).startswith(f"{issues[0].file}:7: halls: ")
    with pytest.raises(HallDataError, match="乙街道"):
        HallDirectory.load(path)


def test_unknown_and_duplicate_streets(tmp_path):
    text = HALLS.replace("street: 乙街道", "street: 丙街道") + (
        "  - id: jia2\n    name: 甲街道第二中心\n    level: 街道便民服务中心\n    street: 甲街道\n")
    messages = shown(check_halls(write(tmp_path, text)))
    assert (7, "halls", "乙街道 (in jinniu_streets.yml:5) has no 便民服务中心 here") in messages
    assert (23, "halls.2.street", "unknown street 丙街道 (not in jinniu_streets.yml)") in messages
    assert (27, "halls.3.street", "甲街道 already has 甲街道便民服务中心") in messages


def test_schema_errors_point_at_the_line(tmp_path):
    text = (HALLS.replace("level: 区政务大厅", "level: 区大厅")
            .replace("    street: 乙街道\n", "    street: 乙街道\n    parkin: 有\n"))
    messages = shown(check_halls(write(tmp_path, text)))
    assert (10, "halls.0.level", "Input should be '区政务大厅' or '街道便民服务中心', got '区大厅'") in messages
    assert (24, "halls.2.parkin", "unknown field") in messages


def test_an_error_in_a_default_points_at_the_default(tmp_path):
    text = HALLS.replace("    weekday: 周一至周五 9:00-17:00\n", "    weekday: 周一至周五 9:00-17:00\n    evening: 有\n")
    messages = shown(check_halls(write(tmp_path, text)))
    assert (7, "street_defaults.hours.evening", "unknown field") in messages
    text = HALLS.replace("street_defaults:\n", "street_defaults:\n  street: 甲街道\n")
    assert (4, "street_defaults.street", "not a field street centres can share") in shown(
        check_halls(write(tmp_path, text)))


def test_district_hall_rules(tmp_path):
    text = HALLS.replace("level: 街道便民服务中心\n    street: 甲街道",
                         "level: 区政务大厅\n    street: 甲街道\n    address: 某路2号\n    hours: {weekday: 全天}")
    messages = shown(check_halls(write(tmp_path, text)))
    assert (7, "halls", "exactly one 区政务大厅 is expected, found 2") in messages
    assert (19, "halls.1.street", "the district hall serves no single street; leave `street` out") in messages
    # street defaults are not a district hall's: its own fields are required where it is
    text = HALLS.replace("level: 街道便民服务中心\n    street: 甲街道", "level: 区政务大厅")
    assert (16, "halls.1.address", "Field required") in shown(check_halls(write(tmp_path, text)))


def test_verified_needs_source_and_no_pending(tmp_path):
    text = HALLS.replace("    verified: false\n", "    verified: true\n")
    messages = shown(check_halls(write(tmp_path, text)))
    assert (15, "halls.0.verified", "verified: true needs source_ref: what it was checked against (and when)") \
        in messages
    text = HALLS.replace("    verified: false\n", "    verified: true\n    source_ref: 现场公告 2026-11-30\n")
    assert check_halls(write(tmp_path, text)) == []
    text = text.replace("address: 某路1号", "address: 某路（门牌待核实）")
    assert (15, "halls.0.verified", f"verified: true but some field still says {PENDING}") in shown(
        check_halls(write(tmp_path, text)))


def test_names_and_ids_must_be_unique(tmp_path):
    text = HALLS.replace("id: yi", "id: jia").replace("aliases: [区政务中心]", "aliases: [甲街道便民服务中心]")
    messages = [m for _, _, m in shown(check_halls(write(tmp_path, text)))]
    assert "id jia is also used by 甲街道便民服务中心" in messages
    assert "'甲街道便民服务中心' also names 测试区政务服务中心" in messages


def test_bad_streets_file_and_bad_yaml(tmp_path):
    messages = shown(check_halls(write(tmp_path, streets=STREETS.replace("name: 乙街道", "name: 乙路"))))
    assert (5, "streets.1.name", "a street name ending in 街道 is required") in messages
    assert shown(check_halls(write(tmp_path, "halls: [\n"))) == [(2, "-", "YAML syntax error: did not find "
                                                                        "expected node content")]
    assert [m for _, _, m in shown(check_halls(write(tmp_path, "version: 1\n")))] == [
        "Field required"]


def test_kb_validate_checks_the_halls(tmp_path):
    kb_dir, guides = tmp_path / "data", tmp_path / "guides"
    kb_dir.mkdir(), guides.mkdir()
    write(kb_dir)
    assert validate([], kb_dir, guides) == []
    assert validate([kb_dir], kb_dir, guides) == []  # the hall/street YAML in a data folder is not a guide
    write(kb_dir, HALLS.split("  - id: yi")[0])
    for paths in ([], [kb_dir], [kb_dir / "halls.yml"]):
        issues = validate(paths, kb_dir, guides)
        assert [(i.line, i.field) for i in issues] == [(7, "halls")], paths
    (kb_dir / "halls.yml").unlink()
    assert validate([], kb_dir, guides) == []  # a KB without halls is fine


def test_committed_kb_validate_includes_halls():
    from tests.knowledge.conftest import GUIDES_DIR, KB_DIR

    issues = validate([KB_DIR / "halls.yml", KB_DIR / "jinniu_streets.yml"], KB_DIR, GUIDES_DIR)
    assert issues == []


# --- recognising hall questions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,topic", [
    # opening hours
    ("几点开门", T.HOURS), ("好久下班", T.HOURS), ("你们上午几点上班", T.HOURS), ("今天开没开", T.HOURS),
    ("明天上班不", T.HOURS), ("办公时间是好久", T.HOURS), ("下午几点关门哦", T.HOURS), ("开到几点", T.HOURS),
    ("营门口便民中心几点关门", T.HOURS), ("啥时候开门嘛", T.HOURS),
    # lunch
    ("中午休息不", T.LUNCH), ("中午有人没得", T.LUNCH), ("午休时间能办不", T.LUNCH),
    ("吃饭那阵有人上班没", T.LUNCH), ("中午12点到1点半可以去不", T.LUNCH),
    # weekend
    ("周末上班没得", T.WEEKEND), ("礼拜六开不开", T.WEEKEND), ("星期天有人没", T.WEEKEND),
    ("周日能不能去办", T.WEEKEND), ("双休日开门不", T.WEEKEND),
    # holidays
    ("国庆节上不上班", T.HOLIDAY), ("过年那几天开门不", T.HOLIDAY), ("五一放假不", T.HOLIDAY),
    ("节假日能办事不", T.HOLIDAY), ("调休那天上班不", T.HOLIDAY),
    # extended hours
    ("晚上能办不", T.EXTENDED), ("下班了还能去办不", T.EXTENDED), ("有没得延时服务", T.EXTENDED),
    ("我上班没时间去咋整", T.EXTENDED), ("早上8点前可以办不", T.EXTENDED),
    # address
    ("在哪儿", T.ADDRESS), ("区政务中心在哪儿", T.ADDRESS), ("地址是好多", T.ADDRESS),
    ("政务中心在哪儿办事", T.ADDRESS), ("社保窗口在几楼", T.ADDRESS), ("便民服务中心在啥子地方", T.ADDRESS),
    # transport
    ("坐地铁咋个去", T.TRANSPORT), ("坐几路公交", T.TRANSPORT), ("附近有地铁站没得", T.TRANSPORT),
    ("从火车北站咋个过去", T.TRANSPORT), ("地铁哪个口出来近", T.TRANSPORT), ("离我家远不远", T.TRANSPORT),
    # parking
    ("停车方便不", T.PARKING), ("开车去好停不", T.PARKING), ("有没得停车场", T.PARKING),
    ("车子停哪里", T.PARKING), ("停车要钱不", T.PARKING), ("车能开进去不", T.PARKING),
    ("骑电瓶车去停哪点", T.PARKING),
    # queue ticket / appointment
    ("要不要预约", T.APPOINTMENT), ("咋个取号", T.APPOINTMENT), ("排队的人多不", T.APPOINTMENT),
    ("网上可以约不", T.APPOINTMENT), ("手机上咋个约号", T.APPOINTMENT), ("去了要排好久", T.APPOINTMENT),
    # assisted / proxy service
    ("可以代办不", T.PROXY), ("有没有人帮忙填表", T.PROXY), ("我不会填表", T.PROXY),
    ("我妈来不了，我替她办行不行", T.PROXY), ("有没得帮办", T.PROXY), ("可以上门办不", T.PROXY),
    ("家里人可以帮我去办不", T.PROXY), ("我老汉走不动了，能不能上门", T.PROXY), ("帮我把表填了嘛", T.PROXY),
    ("有没有志愿者帮忙", T.PROXY), ("街道有专人帮忙不", T.PROXY), ("有没有专门的人指导", T.PROXY),
    # 24-hour self-service
    ("24小时自助区在哪", T.SELF_SERVICE), ("有没有自助打印的机器", T.SELF_SERVICE),
    ("半夜能去打证明不", T.SELF_SERVICE), ("二十四小时开不", T.SELF_SERVICE),
    # mail-back
    ("能不能寄过来", T.MAIL), ("证办好了可以快递到屋头不", T.MAIL), ("执照能邮到家里不", T.MAIL),
    ("邮寄要钱不", T.MAIL), ("证件办好了能寄不", T.MAIL), ("邮费哪个出", T.MAIL), ("可以上门送证不", T.MAIL),
    # accessibility
    ("坐轮椅方便不", T.ACCESSIBILITY), ("有没有电梯", T.ACCESSIBILITY), ("老年人有专门的窗口没", T.ACCESSIBILITY),
    ("我腿脚不好，进得去不", T.ACCESSIBILITY), ("有手语服务没得", T.ACCESSIBILITY),
    ("推婴儿车进得去不", T.ACCESSIBILITY), ("老人有没有优先", T.ACCESSIBILITY),
    # phone
    ("你们电话多少", T.PHONE), ("咋个联系你们", T.PHONE), ("有没有咨询热线", T.PHONE), ("打哪个电话问", T.PHONE),
    # facilities
    ("能复印不", T.FACILITIES), ("现场可以拍证件照不", T.FACILITIES), ("大厅有厕所没得", T.FACILITIES),
    ("手机没电了有地方充电不", T.FACILITIES), ("有没有开水喝", T.FACILITIES), ("附近有打印店没", T.FACILITIES),
])
def test_hall_questions(text, topic):
    assert classify_hall_question(text) == topic


@pytest.mark.parametrize("text", [
    "营业执照怎么办", "营业执照在哪儿办", "身份证丢了咋办", "开个餐馆要办啥子证", "养老金认证咋整",
    "公积金提取要多久", "护照去哪里办", "违章停车罚款在哪交", "停车场备案咋个办", "产假期间能领生育津贴不",
    "手机号码换了咋个改", "打电话挂失社保卡", "出口退税怎么办", "办事流程咋个走", "驾照考场咋个去",
    "现在几点了", "今天天气好不好", "你好", "谢谢你", "", "   ", "委托书咋个写", "电动车上牌在哪里",
    "地铁卡怎么办", "公交卡在哪充值", "坐公交要办卡不", "老人坐地铁能免费不", "寄宿学校咋个报名", "可以帮我查下公积金余额不", "退休手续在哪办",
    "医保卡在哪里领", "低保咋个申请",
    # benefits and matters for disabled people, or an aid wanted for one's own, not the hall's accessibility
    "聋哑人有啥补贴", "盲人能领啥补助", "轮椅能申请不", "我妈腿脚不好想要个轮椅", "想给我爸配个助听器",
    # what a matter asks for, not what the hall has
    "身份证复印件要几份", "要不要带复印件", "照片要求是啥", "参保证明怎么打印",
])
def test_not_hall_questions(text):
    assert classify_hall_question(text) is None


# --- answers and cards -------------------------------------------------------------------------------------------

def test_every_topic_has_an_answer_for_every_hall(halls):
    for hall in halls.halls:
        for topic in HallTopic:
            text = answer_text(topic, hall)
            assert text.startswith(hall.name) or text.startswith("去" + hall.name), text
            assert text.endswith(TEXTS["unverified"]) and len(text) < 260


def test_answer_wording(halls):
    d = halls.district()
    assert answer_text(T.HOURS, d) == f"金牛区政务服务中心办公时间：{d.hours.weekday}。{TEXTS['unverified']}"
    assert answer_text("lunch", d).startswith("金牛区政务服务中心中午：12:00-13:30")
    assert "12345" in answer_text(T.PHONE, d)
    transport = answer_text(T.TRANSPORT, halls.for_street("茶店子"))
    assert "地铁2号线茶店子客运站、2号线一品天下站（" in transport and "客运站站" not in transport
    appointment = answer_text(T.APPOINTMENT, d)
    assert "现场：" in appointment and "预约：" in appointment and "天府通办" in appointment


def test_verified_hall_has_no_note_and_missing_value_falls_back(halls):
    hall = halls.district().model_copy(update={"verified": True, "parking": ""})
    assert not answer_text(T.HOURS, hall).endswith(TEXTS["unverified"])
    assert answer_text(T.PARKING, hall) == "金牛区政务服务中心的停车我这里还没有信息，可以拨打 12345 政务服务便民热线问一下。"


def test_hall_card(halls):
    card = hall_card(halls.for_street("营门口"))
    assert card["type"] == "hall_card" and card["name"] == "营门口街道便民服务中心"
    assert card["level"] == "街道便民服务中心" and card["street"] == "营门口街道"
    assert set(card["hours"]) == {"weekday", "lunch_break", "weekend", "holiday", "extended"}
    for key in ("address", "phone", "transport", "parking", "appointment", "proxy", "self_service", "mail",
                "accessibility", "facilities", "verified", "notice", "labels"):
        assert key in card
    assert card["verified"] is False and "仅供参考" in card["notice"]
    assert set(card["labels"]) == {t.value for t in HallTopic}
    assert "aliases" not in card and "source_ref" not in card


def test_answer_question_picks_the_hall(halls):
    assert answer_question("营业执照怎么办", halls) is None
    assert answer_question("营门口那边的便民中心停车方便不", halls).startswith("营门口街道便民服务中心停车：")
    assert answer_question("几点开门", halls).startswith("金牛区政务服务中心办公时间：")
    assert answer_question("几点开门", halls, street="茶店子街道").startswith("茶店子街道便民服务中心办公时间：")


def test_hall_model_rejects_a_bad_id():
    with pytest.raises(ValueError):
        Hall(id="营门口", name="x", level="区政务大厅", address="x", hours={"weekday": "x"})
