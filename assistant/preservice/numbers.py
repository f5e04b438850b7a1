"""Home-visit booking numbers: unguessable, and still easy to read out on the phone.

A number is ``SM-`` (上门) followed by 14 characters of Crockford's base32 in groups of four: ``SM-7K4M-Q2XD-9PRT-B6``
— 70 random bits: against a million live bookings, a guesser at the chat's rate limit (120 turns a minute per
address) needs about 19 million years for one hit on average, and one trying a million numbers a second still
about 37 years (and a hit shows nothing: a booking is shown only in its own conversation). Crockford's alphabet
has no I, L, O or U, so a number read aloud or typed back cannot be confused: ``o`` is read as 0, ``i``/``l`` as
1, case, spaces and dashes do not matter (:func:`normalize_booking_number`).

Bookings made before this format keep their numbers (``SM`` + yyMMdd + 4 characters, ``SM261201AB3K``); they are
still found, and — like every number — only from their own conversation or by staff.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["ALPHABET", "RANDOM_CHARS", "new_booking_number", "normalize_booking_number", "find_booking_numbers",
           "remove_booking_numbers"]

#: Crockford's base32 alphabet (no I, L, O, U).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Random characters in a number (5 bits each: 70 bits).
RANDOM_CHARS = 14
PREFIX = "SM"
_GROUPS = (4, 4, 4, 2)
_DECODE = str.maketrans({"O": "0", "I": "1", "L": "1"})

#: A number in running text: the new format (separators allowed anywhere) or the old one.
_FIND = re.compile(
    r"(?<![0-9A-Za-z])(?:SM(?:[\s\-]*[0-9A-Za-z]){" + str(RANDOM_CHARS) + r"}|SM\s*\d{6}\s*[A-Za-z0-9]{4})"
    r"(?![0-9A-Za-z])", re.IGNORECASE)


def new_booking_number() -> str:
    """A new booking number (``SM-7K4M-Q2XD-9PRT-B6``; :data:`RANDOM_CHARS` characters from ``secrets``)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return _format(chars)


def _format(chars: str) -> str:
    groups, i = [], 0
    for n in _GROUPS:
        groups.append(chars[i:i + n])
        i += n
    return "-".join([PREFIX, *groups])


def normalize_booking_number(text: str | None) -> str | None:
    """The stored form of a number as a citizen or staff member wrote it, or ``None`` when it is not one.

    ``sm 7k4m q2xd 9prt b6``, ``SM7K4MQ2XD9PRTB6`` and ``SM-7K4M-Q2XO-9PRT-B6`` (O for 0) all give
    ``SM-7K4M-Q2XD-9PRT-B6``; an old-format number is upper-cased with the spaces removed.
    """
    raw = re.sub(r"[\s\-]", "", text or "").upper()
    if not raw.startswith(PREFIX):
        return None
    body = raw[len(PREFIX):]
    if re.fullmatch(r"\d{6}[A-Z0-9]{4}", body):  # the old format, kept as it was issued
        return raw
    body = body.translate(_DECODE)
    if len(body) != RANDOM_CHARS or any(c not in ALPHABET for c in body):
        return None
    return _format(body)


def find_booking_numbers(text: str | None) -> list[str]:
    """Every booking number in ``text``, normalised, in order."""
    out = []
    for m in _FIND.finditer(text or ""):
        number = normalize_booking_number(m.group(0))
        if number and number not in out:
            out.append(number)
    return out


def remove_booking_numbers(text: str | None, replacement: str = " ") -> str:
    """``text`` with each booking number in it replaced (what is left of «把 SM-… 改到下周二下午»).

    Args:
        text: a message.
        replacement: what stands in a number's place (the NLU reads the word 预约号 instead: random characters
            carry no meaning for an intent classifier).
    """
    return _FIND.sub(replacement, text or "")
