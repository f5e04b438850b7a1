"""jieba tokenisation with a user dictionary generated from the KB.

The dictionary holds matter names (short ones), aliases, material aliases, domain words and the Sichuanese /
colloquial words people type (啥子, 咋个, 整, 要得 …). It is written once per KB fingerprint into the cache folder
and loaded into a private ``jieba.Tokenizer`` (the process-global jieba is left alone).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import jieba

from nlu.text import normalize

log = logging.getLogger(__name__)

jieba.setLogLevel(logging.WARNING)

#: Sichuanese and colloquial words (so that jieba keeps them whole and BM25 can drop them as stop words).
DIALECT_WORDS = [
    "啥子", "咋个", "咋整", "咋个整", "咋个弄", "咋个办", "啷个", "啷个办", "整", "弄", "要得", "莫得", "没得", "晓得",
    "哪儿", "哪点", "好多钱", "好久", "搞", "耍", "安逸", "巴适", "摆龙门阵", "哦", "嘛", "噻", "撒", "得行", "不得行",
    "老汉", "老汉儿", "老娘", "屋头", "娃儿", "幺儿", "婆娘", "老人家", "小卖部", "门面", "铺子", "馆子", "苍蝇馆子",
]

#: Domain words jieba's default dictionary splits badly.
DOMAIN_WORDS = [
    "养老金", "公积金", "社保卡", "医保卡", "医保", "社保", "营业执照", "个体户", "个体工商户", "户口", "落户", "身份证",
    "居住证", "不动产", "房产证", "驾驶证", "驾照", "行驶证", "护照", "港澳通行证", "台湾通行证", "残疾证", "独生子女",
    "低保", "特困", "老年证", "老年优待证", "出生证", "出生医学证明", "准生证", "生育登记", "结婚证", "离婚证", "异地就医",
    "备案", "退休", "认证", "刷脸", "食品经营许可证", "健康证", "卫生许可证", "餐饮", "注销", "变更", "补办", "补领",
    "换领", "挂失", "灵活就业", "失业金", "失业保险", "工伤", "生育津贴", "人才补贴", "教师资格证", "学位", "入学",
    "转学", "公租房", "廉租房", "人才公寓", "法律援助", "公证", "退役军人", "优待证", "殡葬", "丧葬费", "抚恤金",
]

#: Words that carry no matter information (questions, politeness, dialect fillers).
STOPWORDS = frozenset("""
的 了 吗 呢 吧 啊 呀 哦 嘛 噻 撒 么 啥 啥子 什么 咋 咋个 怎么 怎样 怎么样 如何 怎么办 咋整 咋办 咋个整 咋个弄 咋个办 啷个
请问 你好 您好 想 想要 要 我 我们 你 你们 他 她 它 家 家里 一下 一个 个 这 那 这个 那个 哪 哪里 哪儿 在 是 有 没有 能 能不能
可以 可不可以 需要 需不需要 应该 如果 还是 还 就 都 也 和 跟 与 及 或 对 把 被 给 让 去 来 到 从 办 办理 弄 整 搞 问 问下 问一下
咨询 关于 问题 请 谢谢 下 些 点 吗? 呢? 里 上 中 后 前 得 地 着 过 又 再 才 好 多 多少 几 谁 为什么 为啥 是不是 有没有 行 不行
， 。 ？ ! ！ , . ? 、 ： : ； ; “ ” " ' ( ) （ ） 《 》 - — ~ … · / \\ 
""".split()) | {" "}

_SPLIT = re.compile(r"[（）()【】\[\]、，,；;：:\s]+")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def lexicon_words(matters: Iterable) -> list[str]:
    """Words for the user dictionary from the matters (names ≤ 12 characters, name parts, aliases, material
    aliases) plus the dialect and domain word lists.

    Args:
        matters: ``knowledge.schema.Matter`` objects.
    """
    words: set[str] = set(DIALECT_WORDS) | set(DOMAIN_WORDS)
    for m in matters:
        cands = [m.name, *m.aliases]
        for mat in m.materials:
            cands.append(mat.name)
            cands.extend(mat.aliases)
        for c in cands:
            c = normalize(c)
            for part in [c, *_SPLIT.split(c)]:
                part = part.strip()
                if 2 <= len(part) <= 12 and " " not in part:
                    words.add(part)
    return sorted(words)


def write_userdict(path: Path, words: Iterable[str]) -> Path:
    """Write a jieba user dictionary (``word freq``), one word a line.

    Args:
        path: the file to write.
        words: the words; longer words get higher frequencies so that jieba keeps them whole.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for w in words:
            f.write(f"{w} {max(2000, 600 * len(w))}\n")
    tmp.replace(path)
    return path


class Tokenizer:
    """A private jieba tokenizer with the KB user dictionary.

    Args:
        userdict: the user dictionary file (see :func:`write_userdict`), or ``None`` for jieba's own dictionary.
        tmp_dir: where jieba keeps its dictionary cache (default: jieba's choice).
    """

    def __init__(self, userdict: Path | None = None, tmp_dir: Path | None = None):
        self._jieba = jieba.Tokenizer()
        if tmp_dir is not None:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            self._jieba.tmp_dir = str(tmp_dir)
        self._jieba.initialize()
        if userdict is not None:
            self._jieba.load_userdict(str(userdict))

    def words(self, text: str) -> list[str]:
        """jieba words of an already normalised text (HMM on, search mode so long names also yield parts)."""
        return [w for w in self._jieba.cut_for_search(text) if w.strip()]

    def cut(self, text: str) -> list[str]:
        """jieba's plain segmentation of an already normalised text: its words one after another."""
        return self._jieba.lcut(text)

    def terms(self, text: str) -> list[str]:
        """Index terms: words without stop words, plus the character bigrams of each CJK run (robust to word
        segmentation differences such as 落户 / 户口迁移)."""
        out = [w for w in self.words(text) if w not in STOPWORDS]
        for run in _CJK_RUN.findall(text):
            out.extend(f"#{run[i:i + 2]}" for i in range(len(run) - 1))
        return out
