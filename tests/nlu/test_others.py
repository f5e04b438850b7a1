"""What others provide (nlu/others.py, nlu/data/others_things.yml): a question about it is out of scope unless it
also says the state's own things or states a plan."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlu.others import OTHERS_FILE, OthersThings


def _write(tmp_path: Path, things: dict) -> Path:
    path = tmp_path / "things.yml"
    path.write_text(yaml.safe_dump({"things": things}, allow_unicode=True), encoding="utf-8")
    return path


def test_a_thing_others_provide_is_spoken_of_unless_the_state_s_own_thing_is_said_too(tmp_path):
    o = OthersThings.load(_write(tmp_path, {"banks": ["银行卡", "农行"], "apps": ["Apple ID"]}))
    assert o.spoken_of("农行卡密码输错三次锁起了") == "农行"
    assert o.spoken_of("apple id密码忘了咋办") == "apple id"  # (messages are normalised: lower-case Latin)
    # (the state's own things: social insurance, a certificate, a licence, a tax)
    assert o.spoken_of("在农行激活社保卡") is None
    assert o.spoken_of("银行卡丢了要开证明不") is None
    assert o.spoken_of("跟农行签个协议自动扣税") is None
    # (a «…证» that is no document: 验证码 is no certificate)
    assert o.spoken_of("农行的验证码收不到") == "农行"
    assert o.spoken_of("身份证丢了") is None


def test_asking_which_provider_is_cheap_or_good_or_what_goods_cost_apiece_is_a_shopper_s_question(tmp_path):
    o = OthersThings.load(tmp_path / "missing.yml")  # (no file: the shopper's questions alone)
    assert o.spoken_of("你帮我在网上找下哪里的喷雾器便宜")
    assert o.spoken_of("附近哪个私立学校好点")
    assert o.spoken_of("你晓得现在鸡苗好多钱一只不")
    assert o.spoken_of("附近哪个银行可以开对公账户")
    # (which office or window is asked, or what a licence costs: ours)
    assert o.spoken_of("哪个街道办证快些") is None
    assert o.spoken_of("食品经营许可证要好多钱") is None


def test_a_malformed_file_is_refused_with_where(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("things:\n  banks: 银行卡\n", encoding="utf-8")
    with pytest.raises(ValueError, match="banks"):
        OthersThings.load(path)
    assert OthersThings.load(tmp_path / "missing.yml").spoken_of("农行卡") is None


def test_the_file_names_no_thing_twice():
    things = yaml.safe_load(OTHERS_FILE.read_text(encoding="utf-8"))["things"]
    words = [str(w) for ws in things.values() for w in ws]
    assert len(words) == len(set(words))


@pytest.mark.parametrize("text", [
    "农行卡密码输错三次锁起了",
    "拍结婚照哪家影楼好",
    "去银行开张储蓄卡要带些啥子",
    "微信上咋个交电费嘛",
    "金牛区的私立小学一学期学费大概好多",
    "打印机驱动装不上咋个弄",  # (a computer's trouble; was 个人参保证明查询打印 by 打印)
    "储蓄卡锁了 要带啥子去银行解开",  # (read as checking one's materials: asks about it all the same)
    "手机卡丢了 去营业厅补要带啥",
    "医保报不完的话，商业保险买哪家划算",  # (a case put first, of the state's: what follows is asked)
])
def test_a_question_about_what_others_provide_is_out_of_scope(nlu, text):
    parse = nlu.parse(text)
    assert parse["out_of_scope"] and not parse["matters"]


@pytest.mark.parametrize("text, name", [
    ("在工商银行能激活社保卡不", "社会保障卡启用（激活）"),
    ("我想在淘宝上开个网店", None),
    ("我在装修公司干了三年被辞退了 劳动仲裁在哪申请", "劳动人事争议仲裁申请"),  # (仲裁 is the state's)
    ("银行卡丢了的话，社保卡也要补办吗", "社会保障卡补领、换领、换发"),  # (what follows the case is ours)
])
def test_a_question_that_says_the_state_s_thing_or_a_plan_is_ours(nlu, text, name):
    parse = nlu.parse(text)
    assert not parse["out_of_scope"] and parse["matters"]
    if name:
        assert name in [m["name"] for m in parse["matters"][:3]]
