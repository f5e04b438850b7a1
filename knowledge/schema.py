"""The typed schema of one government matter (事项) in the guidebook KB.

A matter comes from one of three sources: the Sichuan catalogue (names, department, link — no guide body),
the Guangdong guide export (full guides, used for scale) or an authored YAML guide (full guide for a matter
people often bring to a 金牛区 hall). Every field a citizen is shown is here; nothing is free-form dict.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["区政务大厅", "街道便民服务中心", "社区便民服务站", "线上", "其他"]
Source = Literal["sichuan-catalog", "guangdong-guides", "authored"]


#: The offices: how a department is written, long and short («金牛区人力资源和社会保障局» and «区人社局» are one office),
#: and the everyday names people say in a question («要去人社局报告不», «派出所能办不»). First match wins for a
#: department: a hall's window of another office says it in brackets («行政审批局（文化和旅游）»).
_OFFICES = (("行政审批", r"行政审批", ""),
            ("人社", r"人社|人力资源和社会保障|就业服务管理", r"人社局|社保局|人社部门|劳动局|就业局"),
            ("医保", r"医保|医疗保障", r"医保局"), ("住建", r"住建|住房和城乡建设", r"住建局|房管局"),
            ("市监", r"市监|市场监督管理", r"市场监管局|市监局|工商局"), ("卫健", r"卫健|卫生健康", r"卫健局|卫健委|卫生局"),
            ("残联", r"残联|残疾人联合会", r"残联"), ("教育", r"教育|教科体", r"教育局"),
            ("文旅", r"文广旅|文化和旅游|文化广电", ""), ("自然资源", r"自然资源", ""), ("公积金", r"公积金", r"公积金中心"),
            ("公安", r"公安", r"公安局|派出所|车管所|出入境"), ("民政", r"民政", r"民政局|婚姻登记处"),
            ("退役军人", r"退役军人", ""), ("税务", r"税务", r"税务局|税务所|税务部门"), ("司法", r"司法", ""))
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")


@lru_cache(maxsize=1024)
def office_of(department: str) -> str:
    """The office a department name means, however written: a short name for the known ones («区人社局» and
    «金牛区人力资源和社会保障局»: 人社), else the name without its place («区气象局», «金牛区气象局»: 气象局). ``""``
    for none."""
    name = _BRACKETED.sub("", department or "").strip()
    for office, written, _said in _OFFICES:
        if re.search(written, name):
            return office
    for place in ("国家税务总局", "成都市", "金牛区", "区"):
        name = name.removeprefix(place)
    return name


def office_said(text: str) -> str:
    """The office a message names by an everyday name («人社局», «派出所»: :func:`office_of`'s key), ``""`` for none
    or for more than one."""
    said = {office for office, _written, words in _OFFICES if words and re.search(words, text or "")}
    return next(iter(said)) if len(said) == 1 else ""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Material(_Strict):
    """One item of the 材料清单."""

    name: str = Field(min_length=1)
    #: 原件 / 复印件 / 原件及复印件 / 电子 — as the guide says.
    form: Literal["原件", "复印件", "原件及复印件", "电子", "其他"] = "原件"
    copies: int = Field(default=1, ge=0)
    #: required: always needed; conditional: only in the case ``note`` describes.
    requirement: Literal["required", "conditional"] = "required"
    note: str = ""
    #: Other names people use for this document (房产证 for 不动产权证书): used by the pre-check.
    aliases: list[str] = Field(default_factory=list)


class Place(_Strict):
    """Where the matter is handled."""

    name: str
    level: Level = "区政务大厅"
    address: str = ""
    hours: str = ""
    phone: str = ""
    window: str = ""


class FAQ(_Strict):
    """A question citizens often ask about the matter, with the guide's answer."""

    question: str
    answer: str


class Matter(_Strict):
    """One matter (事项). ``code`` is the Sichuan catalogue code (province-wide) where one exists, else a
    project code ``JN-…`` (authored matters the Sichuan catalogue lacks) or ``GD-…`` (Guangdong import)."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    #: Colloquial and Sichuanese phrasings of the need (开个小卖部, 养老金认证咋整) — authored, used by the NLU.
    colloquial: list[str] = Field(default_factory=list)
    #: Authored example questions (never copied from the evaluation set).
    examples: list[str] = Field(default_factory=list)
    department: str = ""
    main_item: str = ""
    #: 行政许可 / 行政确认 / 公共服务 / 其他行政权力 …
    matter_type: str = ""
    service_object: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    materials: list[Material] = Field(default_factory=list)
    legal_time_limit: str = ""
    promised_time_limit: str = ""
    fee: str = ""
    places: list[Place] = Field(default_factory=list)
    online_link: str = ""
    consult_phone: str = ""
    #: 监督投诉电话 where the source gives one.
    complaint_phone: str = ""
    faqs: list[FAQ] = Field(default_factory=list)
    #: Codes of matters usually done together (个体工商户设立登记 → 食品经营许可 when food is sold).
    related: list[str] = Field(default_factory=list)
    #: Renewal of a licence (许可延续): the code of the licence's first-issue matter, where known.
    renews: str | None = None
    source: Source
    source_ref: str = ""
    #: False until checked against the official portal; shown to citizens as "仅供参考".
    verified: bool = False

    @property
    def office(self) -> str:
        """The office that does the matter, however its department is written (:func:`office_of`)."""
        return office_of(self.department)

    @property
    def level(self) -> Level:
        """The lowest level at which the matter can be handled (where a human helper should be found)."""
        order = ["社区便民服务站", "街道便民服务中心", "区政务大厅"]
        levels = {p.level for p in self.places}
        for lvl in order:
            if lvl in levels:
                return lvl  # type: ignore[return-value]
        return "区政务大厅"
