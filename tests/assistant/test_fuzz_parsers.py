"""Fuzzing the parsers that read what strangers send (issue 11): the WeChat XML parser and the upload readers
(CSV / xlsx). Hypothesis generates the inputs (a bounded number of examples, so ``make test`` stays quick);
crafted inputs check bounded memory: billion laughs, huge entities, deep nesting, zip bombs, a sheet that claims
16 384 columns, a CSV of only separators. The only error any of them may raise is the documented one
(``XMLRefused``, ``UploadError``)."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assistant.channels.wechat.xml import XMLRefused, build_xml, parse_wechat_xml
from assistant.tables import MAX_BYTES, UploadError, read_table

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
#: Memory a parser may use for one input of at most the upload cap (bytes, measured with tracemalloc).
MEMORY_CAP = 64 * 1024 * 1024


def _peak(fn, *args) -> tuple[object, int]:
    tracemalloc.start()
    try:
        try:
            out = fn(*args)
        except (XMLRefused, UploadError) as exc:
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- WeChat XML -----------------------------------------------------------------------------------------------

_NAMES = st.sampled_from(["xml", "ToUserName", "FromUserName", "MsgType", "Content", "MsgId", "Event", "item",
                          "ScanCodeInfo", "a", "b"])


@st.composite
def _xml_docs(draw) -> bytes:
    """Mostly well-formed WeChat-like documents with hostile bits mixed in."""
    def element(depth: int) -> str:
        name = draw(_NAMES)
        if depth > 5 or draw(st.booleans()):
            body = draw(st.one_of(st.text(max_size=40), st.just("<![CDATA[" + draw(st.text(max_size=20)) + "]]>"),
                                  st.sampled_from(["&amp;", "&lt;", "&#x41;", "&#0;", "&xxe;", "&#xD800;"])))
        else:
            body = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 3))))
        return f"<{name}>{body}</{name}>"

    prefix = draw(st.sampled_from(["", '<?xml version="1.0" encoding="utf-8"?>', "<!DOCTYPE xml>",
                                   '<!DOCTYPE x [<!ENTITY a "aaaa">]>', "<?pi x?>", "\ufeff"]))
    doc = prefix + "<xml>" + "".join(element(1) for _ in range(draw(st.integers(0, 6)))) + "</xml>"
    if draw(st.booleans()):  # damage it
        i = draw(st.integers(0, len(doc)))
        doc = doc[:i] + draw(st.text(max_size=5)) + doc[i + draw(st.integers(0, 4)):]
    return doc.encode("utf-8", "surrogatepass") if draw(st.booleans()) else doc.encode("utf-8", "replace")


@FUZZ
@given(st.one_of(st.binary(max_size=400), _xml_docs()))
def test_wechat_xml_parser_raises_only_xml_refused(data):
    try:
        out = parse_wechat_xml(data)
    except XMLRefused:
        return
    assert isinstance(out, dict)


@FUZZ
@given(st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True),
                       st.text(max_size=60), max_size=8))
def test_build_then_parse_round_trips_any_text(fields):
    """Whatever a citizen writes (``]]>`` included) survives our own XML; characters XML cannot carry are refused,
    never crash."""
    try:
        back = parse_wechat_xml(build_xml(fields))
    except XMLRefused:
        return
    for k, v in fields.items():
        if k != "xml":
            assert back[k] == v.replace("\r\n", "\n").replace("\r", "\n").strip()  # XML's end-of-line rule


@pytest.mark.parametrize("doc", [
    # billion laughs
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "' % i + (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10 + b'">' for i in
               range(1, 10)) + b']><xml><Content>&lol9;</Content></xml>',
    # one huge internal entity used many times
    b'<!DOCTYPE x [<!ENTITY big "' + b"A" * 500_000 + b'">]><xml><Content>' + b"&big;" * 200 + b"</Content></xml>",
    # external entity (XXE) and external DTD
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>',
    b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:1/evil.dtd"><xml><Content>x</Content></xml>',
    # deep nesting and too many elements
    b"<xml>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</xml>",
    b"<xml>" + b"<item>1</item>" * 100_000 + b"</xml>",
    # a single enormous attribute-free text (the app's body cap is 1 MB; the parser itself stays linear)
    b"<xml><Content>" + "金".encode() * 300_000 + b"</Content></xml>",
])
def test_hostile_xml_is_refused_with_bounded_memory(doc):
    out, peak = _peak(parse_wechat_xml, doc)
    assert peak < MEMORY_CAP, peak
    if b"<!DOCTYPE" in doc or b"<a><a>" in doc or b"<item>1</item><item>" in doc:
        assert isinstance(out, XMLRefused), out
    else:
        assert isinstance(out, dict) and len(out["Content"]) == 300_000


# --- uploads ----------------------------------------------------------------------------------------------------

_CSV_CELLS = st.one_of(st.text(max_size=20), st.sampled_from(["证照类型", "编号", "持证人", "有效期至", '"', '""', "\r",
                                                             "\n", ",", "\x00", "2027-01-01", "JY15101060012345"]))


@st.composite
def _csv_bytes(draw) -> bytes:
    rows = draw(st.lists(st.lists(_CSV_CELLS, max_size=8), max_size=12))
    text = "\n".join(",".join(r) for r in rows)
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    try:
        return text.encode(enc)
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


@FUZZ
@given(st.one_of(_csv_bytes(), st.binary(max_size=300)), st.sampled_from(["a.csv", "b.CSV", "c.xlsx", "d.txt", ""]))
def test_upload_reader_raises_only_upload_error(data, name):
    try:
        header, rows = read_table(name, data)
    except UploadError:
        return
    assert isinstance(header, list) and all(isinstance(i, int) and isinstance(r, list) for i, r in rows)


def _xlsx(sheet_xml: bytes, *, repeat: bytes = b"", times: int = 0, tail: bytes = b"") -> bytes:
    """A minimal xlsx whose worksheet XML is ``sheet_xml + repeat * times + tail`` (written in chunks)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                   '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '</Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(sheet_xml)
            for _ in range(times // 10_000):
                f.write(repeat * 10_000)
            f.write(tail)
    return buf.getvalue()


_SHEET_HEAD = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def test_a_plain_xlsx_is_read():
    sheet = _SHEET_HEAD + (b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>\xe7\xbc\x96\xe5\x8f\xb7</t></is>'
                           b'</c></row><row r="2"><c r="A2"><v>42</v></c></row></sheetData></worksheet>')
    header, rows = read_table("ok.xlsx", _xlsx(sheet))
    assert header == ["编号"] and rows == [(2, ["42"])]


@pytest.mark.parametrize("name,make", [
    # zip bomb: a sheet of ~400 MB of one repeated row that compresses to well under the upload cap
    ("bomb.xlsx", lambda: _xlsx(_SHEET_HEAD + b"<sheetData>",
                                repeat=b'<row><c t="inlineStr"><is><t>x</t></is></c></row>',
                                times=8_000_000, tail=b"</sheetData></worksheet>")),
    # a dimension that claims 16 384 columns by 1 048 576 rows
    ("wide.xlsx", lambda: _xlsx(_SHEET_HEAD + b'<dimension ref="A1:XFD1048576"/><sheetData>'
                                + b'<row r="1"><c r="A1"><v>1</v></c></row>' + b'<row r="1048576"><c r="XFD1048576">'
                                b"<v>1</v></c></row></sheetData></worksheet>")),
    # billion laughs inside the sheet XML
    ("laughs.xlsx", lambda: _xlsx(b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l "lol">'
                                  + b"".join(b'<!ENTITY l%d "' % i + (b"&l%d;" % (i - 1) if i > 1 else b"&l;") * 10
                                             + b'">' for i in range(1, 10))
                                  + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                    b'<sheetData><row><c t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData>'
                                    b"</worksheet>")),
    # a CSV of nothing but separators (one row of millions of cells) and of nothing but new lines
    ("commas.csv", lambda: b"," * (MAX_BYTES - 1)),
    ("lines.csv", lambda: b"a\n" * (MAX_BYTES // 2 - 1)),
    # one field bigger than the csv module's field limit
    ("field.csv", lambda: b'"' + b"x" * 200_000 + b'"\n'),
])
def test_hostile_uploads_are_refused_with_bounded_memory(name, make):
    data = make()
    assert len(data) <= MAX_BYTES
    out, peak = _peak(read_table, name, data)
    assert isinstance(out, UploadError), out
    assert peak < MEMORY_CAP, peak
