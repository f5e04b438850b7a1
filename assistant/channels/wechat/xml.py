"""Safe parsing and building of WeChat's small XML messages.

WeChat bodies are one ``<xml>`` element with text children (a few events nest one more level, e.g.
``<ScanCodeInfo>``). ``defusedxml`` is not part of the environment, so this module drives the standard
library's expat parser itself and *refuses* any document type declaration, entity declaration, external entity
reference or processing instruction before expat acts on it: XXE, billion-laughs and external DTD fetches are
impossible because no DTD is ever accepted. Depth and element count are capped as well.
"""

from __future__ import annotations

import xml.parsers.expat
from typing import Any

__all__ = ["XMLRefused", "parse_wechat_xml", "build_xml", "MAX_DEPTH", "MAX_ELEMENTS"]

MAX_DEPTH = 4
MAX_ELEMENTS = 200


class XMLRefused(ValueError):
    """The body is not a WeChat XML message (malformed, DTD/entities, too deep or too big)."""


def parse_wechat_xml(data: bytes | str) -> dict[str, Any]:
    """Parse a WeChat XML message into a dict of its children.

    Args:
        data: the raw body. Must have the root element ``<xml>``.

    Returns:
        ``{"ToUserName": "...", "MsgType": "text", ...}``; a nested element becomes a dict of its children.

    Raises:
        XMLRefused: malformed XML, any DOCTYPE/ENTITY/processing instruction, wrong root, too deep/too many.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = xml.parsers.expat.ParserCreate(encoding="utf-8")
    # Never load external DTDs / parameter entities, even if a DOCTYPE slipped through.
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    stack: list[tuple[str, dict[str, Any], list[str]]] = []
    result: dict[str, Any] = {}
    count = 0

    def refuse(what: str):
        def handler(*_args):
            raise XMLRefused(f"{what} not allowed in WeChat messages")
        return handler

    parser.StartDoctypeDeclHandler = refuse("DOCTYPE")
    parser.EntityDeclHandler = refuse("ENTITY declaration")
    parser.UnparsedEntityDeclHandler = refuse("unparsed ENTITY")
    parser.NotationDeclHandler = refuse("NOTATION")
    parser.ExternalEntityRefHandler = refuse("external entity")
    parser.ProcessingInstructionHandler = refuse("processing instruction")

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise XMLRefused("too many elements")
        if len(stack) >= MAX_DEPTH:
            raise XMLRefused("nesting too deep")
        if not stack and name != "xml":
            raise XMLRefused("root element must be <xml>")
        stack.append((name, {}, []))

    def end(name: str) -> None:
        _, children, texts = stack.pop()
        value: Any = children if children else "".join(texts).strip()
        if not stack:
            result.update(children)
            return
        parent = stack[-1][1]
        if name in parent:  # repeated element (e.g. <item> lists): keep a list
            if not isinstance(parent[name], list):
                parent[name] = [parent[name]]
            parent[name].append(value)
        else:
            parent[name] = value

    def chars(text: str) -> None:
        if stack:
            stack[-1][2].append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except XMLRefused:
        raise
    except xml.parsers.expat.ExpatError as exc:
        raise XMLRefused(f"malformed XML: {xml.parsers.expat.ErrorString(exc.code)}") from None
    except (ValueError, UnicodeError) as exc:
        raise XMLRefused(f"malformed XML: {exc}") from None
    return result


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: dict[str, Any]) -> str:
    """Build a WeChat ``<xml>`` message: strings as CDATA, ints bare, dicts as nested elements.

    Args:
        fields: element name → value (``str``, ``int`` or ``dict`` of the same).
    """
    def render(d: dict[str, Any]) -> str:
        out = []
        for k, v in d.items():
            if isinstance(v, dict):
                out.append(f"<{k}>{render(v)}</{k}>")
            elif isinstance(v, bool):
                out.append(f"<{k}>{int(v)}</{k}>")
            elif isinstance(v, int):
                out.append(f"<{k}>{v}</{k}>")
            else:
                out.append(f"<{k}>{_cdata(str(v))}</{k}>")
        return "".join(out)
    return f"<xml>{render(fields)}</xml>"

