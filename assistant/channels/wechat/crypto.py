"""WeChat message signatures and the AES "safe mode" message crypto, exactly as WeChat documents them.

* ``signature`` (every request, and the GET server check): SHA-1 hex of the lexicographically sorted and
  concatenated ``token``, ``timestamp``, ``nonce``.
* ``msg_signature`` (safe / compatible mode): SHA-1 hex of sorted ``token``, ``timestamp``, ``nonce``, ``Encrypt``.
* Message crypto: AES-256-CBC, key = ``base64decode(EncodingAESKey + "=")`` (32 bytes), IV = the first 16 key
  bytes, PKCS#7 padding to a multiple of **32** bytes; plaintext = 16 random bytes + 4-byte big-endian message
  length + message (UTF-8) + AppID; the ciphertext travels base64-encoded in ``<Encrypt>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "WeChatCryptoError", "SignatureError", "TimestampError", "DecryptError", "AppIdError",
    "sha1_signature", "check_signature", "check_timestamp", "pkcs7_pad", "pkcs7_unpad", "WeChatCrypto",
]

#: WeChat pads to 32-byte blocks (not AES's 16).
BLOCK = 32
#: Requests whose timestamp is further than this from our clock are refused (replay window).
DEFAULT_TIMESTAMP_WINDOW_S = 300


class WeChatCryptoError(Exception):
    """A request that fails WeChat's authenticity rules; ``reason`` is a short machine-readable cause."""

    reason = "crypto"


class SignatureError(WeChatCryptoError):
    """Missing or wrong ``signature`` / ``msg_signature``."""

    reason = "bad_signature"


class TimestampError(WeChatCryptoError):
    """Missing, malformed or stale ``timestamp`` (outside the replay window)."""

    reason = "stale_timestamp"


class DecryptError(WeChatCryptoError):
    """Ciphertext that does not decrypt to the documented layout (wrong key, truncated, bad padding)."""

    reason = "decrypt_failed"


class AppIdError(WeChatCryptoError):
    """The decrypted message carries another account's AppID."""

    reason = "wrong_appid"


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: SHA-1 hex digest of the sorted, concatenated parts.

    Args:
        *parts: the token, timestamp, nonce (and the ``Encrypt`` text for ``msg_signature``).
    """
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode("utf-8")).hexdigest()


def check_signature(expected_parts: tuple[str, ...], given: str | None) -> None:
    """Raise :class:`SignatureError` unless ``given`` equals the signature of ``expected_parts``.

    Args:
        expected_parts: the values the signature is computed over (token, timestamp, nonce[, Encrypt]).
        given: the signature from the request's query string (``None`` when absent).
    """
    if not given:
        raise SignatureError("missing signature")
    if not hmac.compare_digest(sha1_signature(*expected_parts), given.strip().lower()):
        raise SignatureError("signature mismatch")


def check_timestamp(timestamp: str | None, window_s: float = DEFAULT_TIMESTAMP_WINDOW_S,
                    now: float | None = None) -> int:
    """Return the request timestamp as an int, raising :class:`TimestampError` when it is outside the window.

    Args:
        timestamp: the ``timestamp`` query parameter (Unix seconds as a decimal string).
        window_s: accepted distance from our clock in seconds, both directions.
        now: the current Unix time (tests); ``time.time()`` when ``None``.
    """
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise TimestampError("missing or malformed timestamp")
    ts = int(timestamp)
    now = time.time() if now is None else now
    if abs(now - ts) > window_s:
        raise TimestampError(f"timestamp {ts} is {int(now - ts)} s away from now")
    return ts


def pkcs7_pad(data: bytes, block: int = BLOCK) -> bytes:
    """PKCS#7 padding to a multiple of ``block`` bytes (a whole extra block when already aligned)."""
    n = block - (len(data) % block)
    return data + bytes([n]) * n


def pkcs7_unpad(data: bytes, block: int = BLOCK) -> bytes:
    """Remove PKCS#7 padding, raising :class:`DecryptError` when it is not valid padding."""
    if not data or len(data) % 16:
        raise DecryptError("ciphertext length is not a multiple of the AES block")
    n = data[-1]
    if n < 1 or n > block or n > len(data) or data[-n:] != bytes([n]) * n:
        raise DecryptError("bad padding (wrong EncodingAESKey or corrupted message)")
    return data[:-n]


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey of WeChat's console.

    Args:
        encoding_aes_key: the EncodingAESKey exactly as shown in the console (43 characters of base64).
    """
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be exactly 43 characters (see the WeChat console)")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("EncodingAESKey is not valid base64") from exc
    if len(key) != 32:  # pragma: no cover - 43 base64 chars + "=" always give 32 bytes
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


class WeChatCrypto:
    """Encrypts and decrypts WeChat message bodies for one account.

    Args:
        token: the server-configuration Token.
        encoding_aes_key: the 43-character EncodingAESKey.
        appid: the account's AppID (appended to and checked in every plaintext).
    """

    def __init__(self, token: str, encoding_aes_key: str, appid: str):
        self.token = token
        self.appid = appid
        self.key = decode_aes_key(encoding_aes_key)
        self.iv = self.key[:16]

    # -- raw AES ---------------------------------------------------------------------------------------
    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.iv))

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        """Encrypt ``message`` into the base64 text of an ``<Encrypt>`` element.

        Args:
            message: the plaintext XML (or JSON) message.
            random16: the 16 leading random bytes (tests pass fixed bytes; random otherwise).
        """
        body = message.encode("utf-8")
        rnd = random16 if random16 is not None else os.urandom(16)
        if len(rnd) != 16:
            raise ValueError("random16 must be 16 bytes")
        plain = pkcs7_pad(rnd + struct.pack(">I", len(body)) + body + self.appid.encode("utf-8"))
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """Decrypt an ``<Encrypt>`` text and return the message, checking the AppID.

        Args:
            encrypted: the base64 ciphertext from the request.

        Raises:
            DecryptError: not base64, truncated, wrong key or bad layout.
            AppIdError: the message was encrypted for another AppID.
        """
        try:
            raw = base64.b64decode(encrypted.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DecryptError("Encrypt is not valid base64") from exc
        if not raw or len(raw) % 16:
            raise DecryptError("truncated ciphertext")
        dec = self._cipher().decryptor()
        plain = pkcs7_unpad(dec.update(raw) + dec.finalize())
        if len(plain) < 20:
            raise DecryptError("plaintext shorter than the 20-byte header")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise DecryptError("message length field exceeds the plaintext")
        try:
            message = plain[20:20 + length].decode("utf-8")
            appid = plain[20 + length:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecryptError("plaintext is not UTF-8 (wrong EncodingAESKey?)") from exc
        if not hmac.compare_digest(appid.encode(), self.appid.encode()):
            raise AppIdError("message is for another AppID")
        return message

    # -- signed envelopes ------------------------------------------------------------------------------
    def msg_signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """The ``msg_signature`` over token, timestamp, nonce and the ciphertext."""
        return sha1_signature(self.token, timestamp, nonce, encrypted)

    def verify_and_decrypt(self, msg_signature: str | None, timestamp: str, nonce: str, encrypted: str) -> str:
        """Check ``msg_signature`` and decrypt.

        Args:
            msg_signature: the ``msg_signature`` query parameter.
            timestamp: the ``timestamp`` query parameter.
            nonce: the ``nonce`` query parameter.
            encrypted: the ``Encrypt`` field of the body.
        """
        check_signature((self.token, timestamp, nonce, encrypted), msg_signature)
        return self.decrypt(encrypted)

    def seal(self, message: str, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        """Encrypt a reply: the four fields of an encrypted passive reply.

        Args:
            message: the plaintext reply (XML or JSON).
            timestamp: the reply's timestamp (now when ``None``).
            nonce: the reply's nonce (random when ``None``).

        Returns:
            ``{"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}``.
        """
        ts = timestamp or str(int(time.time()))
        nc = nonce or str(secrets.randbelow(10**10))
        encrypted = self.encrypt(message)
        return {"Encrypt": encrypted, "MsgSignature": self.msg_signature(ts, nc, encrypted),
                "TimeStamp": ts, "Nonce": nc}
