"""WeChat crypto checked against a second, independent computation: OpenSSL's AES-256-CBC (command line) for
the cipher, and the documented layout (16 random bytes | 4-byte big-endian length | message | AppID | PKCS#7 to
32 bytes) rebuilt byte by byte here."""

from __future__ import annotations

import base64
import hashlib
import struct
import subprocess

import pytest

from assistant.channels.wechat.crypto import (
    AppIdError, DecryptError, SignatureError, TimestampError, WeChatCrypto, WeChatCryptoError, check_signature,
    check_timestamp, decode_aes_key, sha1_signature,
)
from tests.channels.conftest import AES_KEY, APPID, TOKEN


def openssl(data: bytes, key: bytes, iv: bytes, decrypt: bool) -> bytes:
    """AES-256-CBC without padding by the openssl binary (an implementation independent of `cryptography`)."""
    args = ["openssl", "enc", "-aes-256-cbc", "-nopad", "-K", key.hex(), "-iv", iv.hex()]
    if decrypt:
        args.append("-d")
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


def manual_plaintext(random16: bytes, msg: str, appid: str) -> bytes:
    body = random16 + struct.pack(">I", len(msg.encode())) + msg.encode() + appid.encode()
    pad = 32 - len(body) % 32
    return body + bytes([pad]) * pad


def test_key_is_base64_of_key_plus_equals():
    key = decode_aes_key(AES_KEY)
    assert len(key) == 32
    assert base64.b64encode(key).decode().rstrip("=") == AES_KEY
    with pytest.raises(ValueError):
        decode_aes_key(AES_KEY[:-1])


def test_signature_is_sha1_of_sorted_concatenation():
    parts = ("token", "1700000000", "nonce123", "ENCRYPTED")
    expected = hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()
    assert sha1_signature(*parts) == expected
    assert sha1_signature(*reversed(parts)) == expected
    check_signature(parts, expected.upper())  # WeChat's hex is lowercase; case does not matter
    with pytest.raises(SignatureError):
        check_signature(parts, expected[:-1] + ("0" if expected[-1] != "0" else "1"))
    with pytest.raises(SignatureError):
        check_signature(parts, None)


@pytest.mark.parametrize("msg", ["<xml><Content><![CDATA[你好]]></Content></xml>", "", "x" * 12,
                                 "养老金认证咋整" * 50])
def test_encrypt_matches_openssl_and_documented_layout(msg):
    c = WeChatCrypto(TOKEN, AES_KEY, APPID)
    rnd = bytes(range(16))
    enc = base64.b64decode(c.encrypt(msg, random16=rnd))
    assert len(enc) % 32 == 0
    key = decode_aes_key(AES_KEY)
    plain = openssl(enc, key, key[:16], decrypt=True)
    assert plain == manual_plaintext(rnd, msg, APPID)
    # layout, read back by hand
    (n,) = struct.unpack(">I", plain[16:20])
    assert plain[:16] == rnd and plain[20:20 + n].decode() == msg
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad
    assert plain[20 + n:-pad].decode() == APPID


def test_decrypts_what_openssl_encrypted():
    key = decode_aes_key(AES_KEY)
    msg = "<xml><MsgType><![CDATA[text]]></MsgType></xml>"
    ct = openssl(manual_plaintext(b"R" * 16, msg, APPID), key, key[:16], decrypt=False)
    c = WeChatCrypto(TOKEN, AES_KEY, APPID)
    assert c.decrypt(base64.b64encode(ct).decode()) == msg


def test_full_block_of_padding_when_aligned():
    c = WeChatCrypto(TOKEN, AES_KEY, APPID)
    msg = "a" * (64 - 20 - len(APPID))  # header + msg + appid = 64 bytes exactly
    raw = base64.b64decode(c.encrypt(msg))
    assert len(raw) == 96  # a whole 32-byte block of padding (value 32)
    key = decode_aes_key(AES_KEY)
    assert openssl(raw, key, key[:16], True)[-32:] == bytes([32]) * 32
    assert c.decrypt(base64.b64encode(raw).decode()) == msg


def test_round_trip_and_seal():
    c = WeChatCrypto(TOKEN, AES_KEY, APPID)
    sealed = c.seal("<xml><Content>回复</Content></xml>", timestamp="1700000000", nonce="42")
    assert sealed["MsgSignature"] == sha1_signature(TOKEN, "1700000000", "42", sealed["Encrypt"])
    assert c.verify_and_decrypt(sealed["MsgSignature"], "1700000000", "42", sealed["Encrypt"]) \
        == "<xml><Content>回复</Content></xml>"
    with pytest.raises(SignatureError):
        c.verify_and_decrypt(sealed["MsgSignature"], "1700000001", "42", sealed["Encrypt"])


def test_wrong_appid_truncated_and_wrong_key_are_refused():
    mine = WeChatCrypto(TOKEN, AES_KEY, APPID)
    other = WeChatCrypto(TOKEN, AES_KEY, "wxotherappid000000")
    with pytest.raises(AppIdError):
        mine.decrypt(other.encrypt("hi"))
    enc = mine.encrypt("hello world " * 10)
    raw = base64.b64decode(enc)
    with pytest.raises(DecryptError):
        mine.decrypt(base64.b64encode(raw[:-5]).decode())  # not a whole block
    with pytest.raises(DecryptError):
        mine.decrypt(base64.b64encode(raw[:32]).decode())  # whole blocks, but the layout is cut
    with pytest.raises(DecryptError):
        mine.decrypt("not base64 !!")
    wrong = WeChatCrypto(TOKEN, "Z" * 43, APPID)
    with pytest.raises(WeChatCryptoError):
        wrong.decrypt(enc)


def test_timestamp_window():
    assert check_timestamp("1700000000", 300, now=1700000100) == 1700000000
    for bad in ("1699999000", "", None, "abc", "-5", "1" * 20):
        with pytest.raises(TimestampError):
            check_timestamp(bad, 300, now=1700000100)
