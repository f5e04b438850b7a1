"""Intent classification: multinomial logistic regression on the sentence embedding.

Training data: the hand-written examples in ``nlu/data/intents.yml`` plus questions about the KB's matters
(the authored guides' example questions and colloquial phrasings, labelled ask_materials / ask_location /
ask_time / ask_fee by their wording, else ask_matter; and a few templated questions about catalogue names).
Prediction is a numpy softmax (no sklearn at parse time).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from nlu.text import KIN, MAX_MODEL_CHARS, normalize

DATA_DIR = Path(__file__).resolve().parent / "data"
INTENTS_FILE = DATA_DIR / "intents.yml"

#: Intents that ask about a matter: a matter found in the text is routed.
MATTER_INTENTS = ("ask_matter", "ask_materials", "ask_location", "ask_time", "ask_fee")
#: Intents that a message of nothing but a matter's name is not, though the classifier may read it so: they ask
#: something of a matter, or check the things one brought (whose names, «身份证», «结婚证», are matters' names too).
NAMED_ALONE_INTENTS = (*MATTER_INTENTS, "precheck_materials")
#: Intents that never carry a matter.
SOCIAL_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny", "chitchat")
#: Of those, the answers to a question (yes, no).
ANSWER_INTENTS = ("affirm", "deny")
#: The words a greeting, a goodbye, a thanks or small talk is said with (every example of ``nlu/data/intents.yml``
#: has them): a message the classifier reads as one of these without its words («退役了» as a goodbye) may name a
#: matter.
SOCIAL_WORDS = {
    # (a relative's «走了» is a death, not a goodbye: «我老公走了»)
    "goodbye": re.compile(rf"再见|拜拜|(?<![{KIN}])走了|先走|下次|就这样|没别的|没有其他|先去办|先这样|回见|88|bye|再来|"
                          r"晓得了|知道了|明白了|懂了|不问了|就问这些|再会|下线|晚安|不聊了|结束|退出|没得啥子|回头见|改天", re.I),
    "thanks": re.compile(r"谢|辛苦|麻烦你|thank", re.I),
    "greet": re.compile(r"你好|您好|喂|在吗|在不在|有人|哈喽|hello|hi|早|上午好|下午好|晚上好|嗨|老师好|打扰", re.I),
    # (small talk is said to 金小二 or about nothing: «我要开个火锅店» read so, for «你吃火锅不», is no small talk)
    "chitchat": re.compile(r"你|您|金小二|机器人|笑话|聊|无聊|唱|哈哈|呵呵|嘿嘿|666|厉害|心情|龙门阵|笑死|测试|随便|啊啊|"
                           r"好玩|故事", re.I),
}
#: A plan the person, someone close to them or their firm states («我要开个小饭馆», «我们准备办个托管班», «我要卖房子»,
#: «我们店要招几个服务员», «我表哥想开个小旅馆»), or a business just opened («我开了个小超市»): about what they do, not
#: small talk, nor out of scope.
PLAN = re.compile(rf"^(我|我们|俺|我家|我屋头)?(的)?((老|表|堂)?[{KIN}]{{1,2}}[儿子]?|朋友|亲戚|同学|邻居|同事|老乡)?"
                  r"(店|公司|厂|单位|企业|门面|馆子|餐馆|超市|"
                  # (or what «我们» / «我家» have, whatever it is called: «我们寺庙想扩建大殿», «我们小区想装充电桩»)
                  r"(?<=我们|我家|俺们)(?!一起|今天|明天|现在|以后|也|都|还|就|又)[\u4e00-\u9fff]{1,3}?"
                  r"(?=(里|头)?(要|想|准备|打算|计划))|"
                  # (or where or what for, said first: «店门口想挂个大招牌», «搞活动想在街上挂横幅»)
                  r"(?<![\s\S])(?!一起|今天|明天|现在|以后|也|都|还|就|又|我|你|他|她|俺)[\u4e00-\u9fff]{2,8}?"
                  r"(?=(想|准备|打算|计划)))?(里|头)?"
                  r"((要|想|准备|打算|计划|想要)(在\S{1,8})?(扩|改|新|重|翻)?"
                  r"(开|办|搞|做|弄|建|卖|买|租|出租|转让|过户|招|搭|盖|修|装|摆|挂|立|砍|挪|移|拆|挖|埋)|"
                  r"(刚|新)?(在\S{1,8})?开了\S{0,8}(店|馆|超市|厂|公司|铺|餐厅|诊所|药房|门面|摊|工作室|作坊|机构))")
#: Something that happened to the person, their family or their firm, told: a life event («我老婆生娃了», «我退休了», «刚
#:毕业») or harm done to them or their home («在厂里把手弄伤了», «工地上摔断了腿», «家里遭了火灾», «房子被水淹了»).
#: Someone telling the hall this asks for what follows from it (出生登记, 工伤认定, 救助 …), found by the search: it
#: is no small talk and not out of scope.
EVENT_TOLD = re.compile(r"生(了)?(个)?(娃|孩子|小孩|宝宝|儿子|女儿|二胎|三胎|老二|老三)|(娃|孩子|小孩|宝宝)(刚)?(出生|生)了|"
                        r"出生了|怀孕了|怀上了|结婚了|领证了|离婚了|退休了|失业了|下岗了|辞退|开除|被裁|裁员|辞职了|离职了|毕业了|"
                        # (or a paper lost: «房产证找不到了», «结婚证搞丢了», «执照遭偷了»)
                        r"(证|证件|证书|证明|执照|户口本|户口簿|本本|社保卡|医保卡)\S{0,6}?(找不到了|不见了|搞丢|弄丢|丢了|掉了|"
                        r"搞掉了|搞到哪\S{0,2}去了|遗失|被偷|遭偷|烧了)|"
                        r"退伍了|退役了|去世了|过世了|"
                        # (harm to a child is no worker's: «孩子在学校摔伤了» asks nothing of 工伤认定)
                        r"^(?!.*(孩子|娃|小孩|儿子|女儿|学生|宝宝)).*((受|弄|摔|撞|砸|压|烫|烧|割|夹|咬)(伤|断|残)|伤(了|到)|骨折|"
                        r"残疾了)|"
                        r"火灾|失火|着火|起火|(烧|冲|淹|垮|塌)(光|没|毁|坏|掉)?了|(被|遭)(了)?(水|火|洪水|大水)?(淹|烧|冲)|"
                        r"遭(了)?(灾|水灾|火灾|洪灾|地震)|地震|倒塌|"
                        # (or to their firm: «公司搬家了», «店改名了» ask for the change to register; «小吃店不开了»
                        # for the firm's end — told, not asked of a shop: «楼下那家店关门了吗»)
                        r"(公司|企业|店|门面|铺子|厂|工作室|单位)\S{0,4}(搬家|搬迁|搬走|搬了|搬到|迁址|换了?地方|改了?名|更名|"
                        r"换了?法人|换了?老板|不开了|不做了|不干了|关门了|关了|倒闭了|垮了|黄了|停业|歇业)(?![吗么嘛没?？])")
#: Asking whether what one does needs the state's leave, or whose it is to give («要办手续不», «要先报个方案不», «需要批
#:不», «找哪个批», «要不要去文化局备案», «要办啥子»), or told by someone that it does («收猪的老板说要开个证明», «听说当房东
#:的要去报备一下»): a question for the hall about doing it, whatever else it tells.
ASKS_IF_NEEDED = re.compile(r"(要|需要|得|用)(先|单独|另外)?(去\S{0,5}?)?(办|报|申请|审批|批|报批|备案|报备)(个|一下|下)?"
                            r"(啥子?|什么|哪些)?(手续|方案|证|许可|审批|备案)?(不|吗|么|嘛|没)|"
                            r"(要不要|需不需要|用不用)(去\S{0,5}?)?(办|报|申请|审批|批|报批|备案|报备)|"
                            r"(找|归|去)哪个(部门|单位)?(批|审批|备案|管|报)|哪个部门(批|审批|管)|"
                            r"(要|需要|得)(先|去)?(办|报|申请|弄)(个|些|点)?(啥子?|什么|哪些)|"
                            r"(听说|说|喊我们?|叫我们?|让我们?)[^，,。？?]{0,6}?(要|得|必须|需要)(先)?(去)?"
                            r"(办|开|报备|报|备案|登记|申请)(个|一个|张|一张|一下|下)?")
#: A yes or a no said as a clause of its own («不用了，…», «是的。»), not the first character of a name («无犯罪…»).
ANSWER_CLAUSE = re.compile(r"^(不是|不对|不用|不要|不需要|没有|没得|对|是的|是|好的|好|行|嗯|可以|没错|不)"
                           r"[了的啊呀哈嘛吧咯]*(\s|[，,。.!！?？~]|$)")
ALL_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny", *MATTER_INTENTS, "request_human", "out_of_scope",
               "chitchat", "nlu_fallback")

#: Words that name a cost (收费, 工本费 …), whatever else the message asks.
COST_WORDS = r"收费|费用|要钱|免费|工本费"
#: Words that ask what something costs.
FEE_WORDS = re.compile(rf"多少钱|好多钱|{COST_WORDS}")

#: Words that ask what to bring («要带身份证不», «需要什么材料»).
MATERIAL_WORDS = re.compile(r"材料|带什么|带啥|带哪些|要带|证件|资料|提交什么|提供什么|准备什么|准备啥")

_FOLLOW_UP_RULES = (
    ("ask_materials", MATERIAL_WORDS),
    ("ask_fee", FEE_WORDS),
    ("ask_time", re.compile(r"多久|几天|多长时间|好久|时限|几点|上班时间|什么时候能")),
    ("ask_location", re.compile(r"在哪|哪里办|去哪|哪儿办|哪点办|地址|哪个窗口|什么地方")),
)

#: Question templates for catalogue matter names ({n} = the name).
_TEMPLATES = ("{n}", "咨询{n}", "关于{n}的问题", "{n}怎么办理", "{n}咋个办", "请问{n}在哪里办", "{n}需要什么材料",
              "我想办{n}", "{n}要多久", "{n}收费吗", "想了解{n}", "{n}的条件是什么")


def label_question(text: str) -> str:
    """The intent of a KB example question by its wording (materials / fee / time / location, else ask_matter)."""
    for intent, pattern in _FOLLOW_UP_RULES:
        if pattern.search(text):
            return intent
    return "ask_matter"


def load_examples(path: Path = INTENTS_FILE) -> dict[str, list[str]]:
    """The hand-written examples by intent.

    Args:
        path: the intents YAML file.

    Raises:
        ValueError: the file is not ``{intents: {name: [str, ...]}}``.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    intents = data.get("intents")
    if not isinstance(intents, dict):
        raise ValueError(f"{path}: expected a mapping `intents:`")
    out: dict[str, list[str]] = {}
    for name, items in intents.items():
        if not isinstance(items, list) or not all(isinstance(x, (str, int)) for x in items):
            raise ValueError(f"{path}: intent {name!r} must be a list of strings")
        out[str(name)] = [str(x) for x in items]
    return out


def load_names_matter(path: Path = INTENTS_FILE) -> list[str]:
    """The follow-up examples that name a matter (``names_matter:`` in the intents file)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [str(x) for x in data.get("names_matter") or []]


def _draw(seed: int, code: str) -> int:
    """A matter's place in the catalogue-name draw: a hash of its code, so that a guide authored for one matter
    leaves every other matter's draw (and its template) as it was."""
    return int.from_bytes(hashlib.blake2b(f"{seed}:{code}".encode(), digest_size=8).digest(), "big")


def kb_examples(matters: Sequence, seed: int = 7, catalogue_names: int = 250) -> list[tuple[str, str, str]]:
    """Labelled matter questions derived from the KB.

    Args:
        matters: the KB's matters.
        seed: seed of the catalogue-name draw and templates.
        catalogue_names: how many catalogue (non-authored) matter names to template: those first by ``_draw``.

    Returns:
        ``(text, intent, matter_code)`` triples.
    """
    out: list[tuple[str, str, str]] = []
    plain = []
    for m in matters:
        if m.source == "authored":
            for q in [*m.examples, *m.colloquial]:
                out.append((q, label_question(q), m.code))
        else:
            plain.append(m)
    drawn = sorted((_draw(seed, m.code), i) for i, m in enumerate(plain))[:catalogue_names]
    for place, i in drawn:
        q = _TEMPLATES[place % len(_TEMPLATES)].format(n=plain[i].name)
        out.append((q, label_question(q), plain[i].code))
    return out


def training_hash(examples: dict[str, list[str]], extra: Sequence[tuple[str, str, str]]) -> str:
    """A hash of the training set (for the cache key)."""
    h = hashlib.sha256(json.dumps(examples, ensure_ascii=False, sort_keys=True).encode())
    h.update(json.dumps(list(extra), ensure_ascii=False).encode())
    return h.hexdigest()[:16]


@dataclass
class IntentClassifier:
    """A softmax classifier over sentence embeddings.

    Attributes:
        labels: the intent names, in column order.
        weights: ``(dim, n_labels)``.
        bias: ``(n_labels,)``.
    """

    labels: list[str]
    weights: np.ndarray
    bias: np.ndarray

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: Sequence[str], c: float = 10.0) -> "IntentClassifier":
        """Train a multinomial logistic regression (scikit-learn) with balanced class weights.

        Args:
            vectors: ``(n, dim)`` normalised embeddings.
            labels: the intent of each row.
            c: inverse regularisation strength.
        """
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        clf.fit(vectors, list(labels))
        return cls([str(x) for x in clf.classes_], clf.coef_.T.astype("float32").copy(),
                   clf.intercept_.astype("float32").copy())

    def predict(self, vector: np.ndarray) -> list[tuple[str, float]]:
        """Intents with probabilities, best first.

        Args:
            vector: ``(dim,)`` normalised embedding.
        """
        z = vector @ self.weights + self.bias
        z = np.exp(z - z.max())
        p = z / z.sum()
        order = np.argsort(-p)
        return [(self.labels[i], float(p[i])) for i in order]

    def save(self, path: Path) -> None:
        """Write to ``path`` (``.npz``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, labels=np.array(self.labels), weights=self.weights, bias=self.bias)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "IntentClassifier":
        """Read a classifier written by :meth:`save`."""
        with np.load(path) as z:
            return cls([str(x) for x in z["labels"]], z["weights"], z["bias"])


def training_set(matters: Sequence, examples: dict[str, list[str]] | None = None,
                 seed: int = 7) -> list[tuple[str, str]]:
    """All ``(normalised text, intent)`` training pairs.

    Args:
        matters: the KB's matters.
        examples: hand-written examples (default: :func:`load_examples`).
        seed: seed of the KB-derived part (see :func:`kb_examples`).
    """
    examples = load_examples() if examples is None else examples
    pairs = [(normalize(t, MAX_MODEL_CHARS), intent) for intent, items in examples.items() for t in items]
    pairs += [(normalize(t, MAX_MODEL_CHARS), intent) for t, intent, _ in kb_examples(matters, seed)]
    return [(t, i) for t, i in pairs if t]
