"""Things other people provide: a question about a bank's card, a shop's refund or a patient's appointment.

The search matches words, and words are shared: «农行卡密码输错三次锁起了» matches 社会保障卡密码重置 by 卡 and 密码 as
well as a question about the 社保卡 would, «拍结婚照哪家影楼好» matches 婚姻登记 by 结婚. ``data/others_things.yml``
(written by hand from what a service hall is not, never from the evaluation set) lists what a citizen gets from
others: banks, apps, shops, phone operators, tickets, a patient's care, paid services; asking which provider is cheap
or good, or what goods cost apiece (:data:`SHOPPING`), is a shopper's question too. A message that speaks of one of
these is about it, not about a government matter, unless it also says one of the state's own things (a licence, a
certificate, social insurance, a registration, a subsidy…) or states a plan («我想在淘宝上开个店» asks what opening it
takes). The rule is read after the search (:meth:`nlu.engine.NLU.parse`); nothing is retrained when the file changes.

The words are not checked against what the KB says: a guide may speak of a 健身房 or a 银行卡 (the licence of one,
the card a pension is paid to), and a question about those says the licence or the pension too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nlu.everyday import read_word_lists
from nlu.text import normalize

#: The hand-written things.
OTHERS_FILE = Path(__file__).resolve().parent / "data" / "others_things.yml"

#: The state's own things: a message that says one of them asks about a matter, whatever else it speaks of
#: («在工商银行激活社保卡», «在华西住院了医保咋报», «淘宝店要营业执照不»), and so does asking whether a thing can be done
#: («在工商银行能办不», after a matter: still about it). A document named «…证» counts, not 验证, 保证, 论证 or 证券.
STATE_WORDS = re.compile(
    "社保|医保|社会保障|医疗保险|养老保险|养老金|退休金|失业金|失业保险|工伤|生育保险|生育津贴|公积金|户口|户籍|居住证|执照"
    "|报销|住院|档案|护照|驾照|仲裁|许可|备案|登记|审批|补贴|补助|资助|减免|救助|低保|残疾|退役|优抚|税|发票|年报|工商局|市场监管|派出所|政务|办事大厅"
    "|便民服务|窗口|公证|认证|证明|手续(?!费)|(?:能|可以)办|办得[到了]|上牌|过户|年审|年检|办(?:什么|啥|哪些)|[^\\W验保论]证(?!券)|证件|证书")


#: Asking which provider is cheap or good («附近哪个私立学校好点», «哪里的喷雾器便宜», «哪家银行可以开对公账户»), or
#: what goods cost apiece («鸡苗好多钱一只»): a shopper's question, whoever provides it.
SHOPPING = re.compile(
    r"哪(?:里|家|个|儿|些)的?[^，。？?！!\s]{0,8}?(?:便宜|好点|好些|划算|实惠|靠谱|正规|好吃|好耍|最好|口碑)"
    r"|哪(?:个|家)银行|(?:好多|多少)钱一(?:只|斤|个|台|件|份|瓶|盒|袋|箱|头|亩|米|平|平米|平方|天|克|套|桌)"
    r"|还是[^，。？?！!\s]{1,6}(?:划算|便宜|实惠)")

#: What says another question follows («另外», «顺便问一哈», «再问个题外话»): what follows it is what is asked
#: («好的我先去弄残疾证。另外医院里请的护工一天三百贵不贵» asks about a carer, whatever came before).
ANOTHER_QUESTION = re.compile(r"另外|顺便问|顺便说|还想问|再问(?:个|一个|一下|一哈|下)|题外话|还有个(?:小)?问题")


#: A case put before the question («公积金不够的话，…»): what follows it is what is asked («…商业贷款利率好多»).
IF_SO = re.compile(r"的话[，,\s]+")


@dataclass(frozen=True)
class OthersThings:
    """What others provide, as one pattern (longest words first)."""

    pattern: re.Pattern | None

    @classmethod
    def load(cls, path: Path = OTHERS_FILE) -> "OthersThings":
        """The things of ``path`` (none when it is missing). The file is read once per process.

        Raises:
            ValueError: the file is not a ``things:`` mapping of kinds to lists of words (the message says where).
        """
        words = sorted(set(_read(path)), key=len, reverse=True)
        return cls(re.compile("|".join(map(re.escape, words))) if words else None)

    def spoken_of(self, norm: str) -> str | None:
        """The thing a normalised message speaks of, when it is about one of these and not about the state's own
        things (``None`` otherwise); of a message that says another question follows, or that puts a case before it
        («…的话，»), what follows is read. A plan the person states is not judged here (the caller knows its cues)."""
        asked = IF_SO.split(ANOTHER_QUESTION.split(norm)[-1])[-1]
        m = (self.pattern.search(asked) if self.pattern is not None else None) or SHOPPING.search(asked)
        if m is None or STATE_WORDS.search(asked):
            return None
        return m.group(0)


def _read(path: Path) -> list[str]:
    """Every thing of the file, normalised, each once."""
    return list(dict.fromkeys(normalize(w) for _, words in read_word_lists(path, "things") for w in words
                              if len(w) >= 2))
