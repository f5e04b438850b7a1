"""Text normalisation for the NLU: what every query and every indexed text goes through first.

Steps: Unicode NFKC (full-width letters, digits and punctuation → half-width), control and zero-width characters
removed, traditional → simplified Chinese (OpenCC ``t2s`` when the ``opencc`` package is installed, else a small
built-in table of the characters common in government-service questions), whitespace collapsed, lower-cased
Latin letters. A length cap keeps the model input small; 10,000 characters normalise in well under a millisecond
per kilobyte.
"""

from __future__ import annotations

import re
import unicodedata

#: Characters the model sees at most (the search and the classifier only need the first few sentences).
MAX_MODEL_CHARS = 500

_SPACE = re.compile(r"\s+")

# A fallback table for when OpenCC is missing: the traditional characters that occur most in questions about
# government matters (養老金, 證, 辦, 戶口 …). Not complete, but it covers the lexicon of the KB well.
_T2S_PAIRS = (
    "養养 證证 辦办 戶户 門门 號号 醫医 療疗 險险 計计 劃划 歲岁 齡龄 業业 營营 執执 照照 許许 權权 銷销 冊册 "
    "記记 資资 務务 員员 們们 個个 這这 麼么 為为 嗎吗 裡里 裏里 還还 說说 請请 問问 題题 補补 領领 換换 "
    "簽签 電电 話话 費费 郵邮 單单 張张 親亲 屬属 兒儿 婦妇 嬰婴 孫孙 車车 駕驾 駛驶 職职 稅税 準准 備备 "
    "網网 線线 屆届 歷历 學学 機机 關关 區区 鄉乡 鎮镇 縣县 實实 際际 應应 該该 時时 間间 長长 來来 "
    "後后 會会 將将 對对 樣样 從从 發发 現现 與与 體体 紀纪 結结 離离 婚婚 產产 廳厅 務务 處处 認认 "
    "殘残 疾疾 貧贫 困困 難难 衛卫 藥药 品品 險险 災灾 農农 勞劳 動动 遷迁 轉转 報报 銀银 舊旧 "
    "廣广 東东 場场 書书 歡欢 謝谢 見见 讓让 給给 錢钱 級级 準准 條条 價价 總总 貸贷 構构 幫帮 氣气 "
    "熱热 隊队 專专 樓楼 壞坏 響响 噪噪 聲声 賣卖 買买 開开 飯饭 館馆 煙烟 雜杂 貨货 鋪铺 麵面 飲饮 "
    "狀状 檔档 驗验 輸输 據据 寫写 讀读 師师 範范 區区 圖图 層层 濟济 獎奖 勵励 腦脑 碼码 過过 "
)
_T2S = {p[0]: p[1] for p in _T2S_PAIRS.split() if len(p) == 2}

try:  # pragma: no cover - depends on the environment
    import opencc as _opencc

    _CONVERTER = _opencc.OpenCC("t2s")

    def to_simplified(text: str) -> str:
        """Traditional → simplified Chinese (OpenCC ``t2s``)."""
        return _CONVERTER.convert(text)

except Exception:  # pragma: no cover - ImportError or a broken build
    _TABLE = str.maketrans(_T2S)

    def to_simplified(text: str) -> str:
        """Traditional → simplified Chinese (built-in table of common characters)."""
        return text.translate(_TABLE)


#: Chinese digits, for :func:`cn_number`.
CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_number(s: str) -> int:
    """A number written in digits or in Chinese: ``"十二"`` → 12, ``"二十"`` → 20, ``"三十一"`` → 31, ``"二〇二七"``
    → 2027, ``"5"`` → 5.

    Raises:
        ValueError: ``s`` is no such number.
    """
    if s.isdigit():
        return int(s)
    if "十" in s:
        head, _, tail = s.partition("十")
        if head and head not in CN_DIGITS or tail and tail not in CN_DIGITS:
            raise ValueError(s)
        tens = CN_DIGITS[head] if head else 1
        return tens * 10 + (CN_DIGITS[tail] if tail else 0)
    if s and all(ch in CN_DIGITS for ch in s):
        return int("".join(str(CN_DIGITS[ch]) for ch in s))
    raise ValueError(s)


def clean(text: str) -> str:
    """Clean a text without changing its meaning: what every channel's input and every indexed text go through.

    Unicode NFKC (full-width → half-width), control characters → spaces, zero-width / bidi / private-use /
    unassigned characters dropped (the emoji joiner and variation selector are kept), traditional → simplified
    Chinese, whitespace collapsed, stripped. Letter case is kept.
    """
    if not text:
        return ""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        cat = unicodedata.category(ch)
        if cat == "Cc":
            out.append(" ")
        elif cat in {"Cf", "Cs", "Co", "Cn"} and ch not in "\u200d\ufe0f":
            continue
        else:
            out.append(ch)
    return _SPACE.sub(" ", to_simplified("".join(out))).strip()


def normalize(text: str, max_chars: int | None = None) -> str:
    """Normalise a user or KB text for matching.

    Args:
        text: any string (may be empty, very long, contain control characters or emoji).
        max_chars: cut the result to this many characters (``None``: no cut).

    Returns:
        :func:`clean` text with lower-case Latin letters, cut to ``max_chars``.
    """
    if not text:
        return ""
    if max_chars is not None:
        # Cut generously before the (linear) work so that a huge input costs little.
        text = text[: max_chars * 2]
    text = clean(text).lower()
    if max_chars is not None:
        text = text[:max_chars]
    return text


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains at least one CJK ideograph."""
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


# The framing of a formal written question (a message-board subject line, a letter): "关于……的咨询", "咨询……的问题",
#: «那换证呢», «护照呢»: what about another matter (group 1: what is asked about).
WHAT_ABOUT = re.compile(r"^(?:那么|那|还有)?([^，,。？?\s]{1,8})(?:呢|嘞|喃)[?？]?$")


def what_about(text: str) -> str:
    """What a «那X呢» asks about («那身份证呢» → «身份证»), else ``""``."""
    m = WHAT_ABOUT.match(text)
    return m.group(1) if m else ""


# "请问……" («我先问下…»), and the place names every question here shares. It says nothing about which matter is meant
# but pulls the sentence embedding towards other framed texts.
_FRAME_HEAD = re.compile(r"^(?:关于|想咨询一下|想咨询|咨询一下|咨询|请问一下|请问|我?(?:先|想|再|就)?(?:问|打听)一?下)[，,:：\s]*")
_FRAME_TAIL = re.compile(r"[，,\s]*(?:的相关问题|相关问题|问题咨询|的咨询|的问题|的疑问|的事宜|事宜|问题)[?？。!！\s]*$")
_PLACES = re.compile(r"四川省|成都市|金牛区")
#: The euphemism for a death said of a relative («我老公走了», «老人不在了», «我妈上个月没了»): the matters speak of
#: 去世 / 死亡, and «走了» alone would pull toward leaving (a goodbye, 离婚).
KIN = "爸妈公婆爷奶爹娘父母夫妻儿女姐哥弟妹伴人汉"
_PASSED = re.compile(rf"(?<=[{KIN}])((?:上个月|上个星期|上周|前几天|前段时间|去年|今年|昨天|刚刚|刚)?)"
                     r"(?:走了|不在了|没了|(?<=刚)走)(?=以后|之后|后|[^一-鿿]|$)")
#: … or said after what the relative was doing then («我老汉儿领失业金的时候走了», «我妈住院期间没了»): the relative
#: is the clause's subject, named after 我/家里 at its head.
_PASSED_WHILE = re.compile(rf"((?:我|俺|家里)[^，,。？?\s]{{0,3}}[{KIN}][^，,。？?\s]{{1,14}}?(?:的时候|时候|期间|那天))"
                           r"(?:走了|不在了|没了)(?=[^一-鿿]|$)")


def strip_frame(text: str) -> str:
    """A normalised question without its formal framing and the shared place names ("关于成都市金牛区新生儿
    落户的咨询" → "新生儿落户"), a relative's death said plainly ("我老公走了" → "我老公去世了"); the text itself when
    less than two characters would be left."""
    out, prev = _PASSED_WHILE.sub(r"\1去世了", _PASSED.sub(r"\1去世了", text)), None
    while out != prev:
        prev = out
        out = _FRAME_TAIL.sub("", _FRAME_HEAD.sub("", _PLACES.sub("", out))).strip()
    return out if len(out) >= 2 else text


# Places elsewhere. From the hall's side a city or province outside Chengdu is just «外地»: «我在上海上班» tells the
# 异地 matters apart as «我在外地上班» does, and the name itself only pulls toward a text that happens to name the
# same city. The cities are china-cities' (prefecture- and county-level); 成都 and its county-level cities stay, so
# do 重庆 and 川渝 (the 川渝通办 variants speak of them), 香港, 澳门 and 台湾 (their own matters) and 四川. A name
# counts only where it is said as a place: after 在/去/到/从/回/自/往, or before what one does there (上班, 住 …),
# so 中山路 or 安康 stay.
_PROVINCES = ("河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 贵州 云南 陕西 甘肃 "
              "青海 内蒙古 广西 西藏 宁夏 新疆 北京 天津 上海").split()
_OURS = {"成都", "都江堰", "彭州", "邛崃", "崇州", "简阳", "重庆", "香港", "澳门", "台湾", "四川"}
_AS_PLACE_AFTER = "在去到从回自往"
_AS_PLACE_BEFORE = ("人|的|那边|那里|这边|上班|工作|打工|读书|上学|生活|养老|定居|出生|生的|住|过冬|看病|就医|参保|交的|"
                    "落户|退休")
_IN_A_NAME = "路街巷桥村镇乡道"  # (a city's name in a street's: «住在中山路»)
_elsewhere: re.Pattern[str] | None = None


def _elsewhere_pattern() -> re.Pattern[str]:
    global _elsewhere
    if _elsewhere is None:
        from china_cities import get_cities_cn

        names = set(_PROVINCES)
        for city in get_cities_cn():
            names.add(city)
            bare = re.sub(r"(市|地区|盟)$", "", city)
            if len(bare) >= 2:
                names.add(bare)
        names = {n for n in names if re.sub(r"(市|省)$", "", n) not in _OURS}
        alt = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
        _elsewhere = re.compile(rf"(?<=[{_AS_PLACE_AFTER}])(?:{alt})(?:省|市)?(?![{_IN_A_NAME}])|"
                                rf"(?:{alt})(?:省|市)?(?={_AS_PLACE_BEFORE})")
    return _elsewhere


def as_elsewhere(text: str) -> str:
    """``text`` with each city or province outside Chengdu said as a place replaced by «外地» («我在上海上班» →
    «我在外地上班», «退休了去海南养老» → «退休了去外地养老»)."""
    return _elsewhere_pattern().sub("外地", text) if text else text
