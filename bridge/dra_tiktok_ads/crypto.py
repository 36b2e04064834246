"""Connection details encrypted the way the DRA platform stores them.

AES-256-GCM with the 32-byte key given as 64 hex characters in ``ENCRYPTION_KEY``. The
stored value is the JSON object ``{"version": 1, "iv": hex, "authTag": hex, "encrypted":
hex}``; the plaintext is the compact JSON of the details (as ``JSON.stringify`` writes it),
with a fresh 12-byte IV per value and a 16-byte authentication tag.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENVELOPE_VERSION = 1
KEY_ENV_VAR = "ENCRYPTION_KEY"
_KEY_BYTES = 32
_IV_BYTES = 12
_TAG_BYTES = 16


class ConnectionDetailsError(ValueError):
    """Connection details cannot be encrypted or decrypted (bad key, bad envelope)."""


def _key_bytes(key_hex: str) -> bytes:
    try:
        key = bytes.fromhex(key_hex.strip())
    except (ValueError, AttributeError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise ConnectionDetailsError(
            f"{KEY_ENV_VAR} must be {_KEY_BYTES * 2} hexadecimal characters (a 32-byte"
            " AES-256 key), the same key the platform uses; generate one with"
            " `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    return key


def key_from_env() -> str:
    """The platform key from ``ENCRYPTION_KEY``, validated (64 hex characters)."""
    value = os.environ.get(KEY_ENV_VAR, "")
    if not value:
        raise ConnectionDetailsError(
            f"{KEY_ENV_VAR} is not set: it must hold the platform's 64-hex-character key."
        )
    _key_bytes(value)
    return value.strip()


def encrypt_details(details: Mapping[str, Any], key_hex: str) -> dict[str, Any]:
    """Encrypt ``details`` into the platform's envelope."""
    key = _key_bytes(key_hex)
    iv = secrets.token_bytes(_IV_BYTES)
    plaintext = json.dumps(dict(details), separators=(",", ":"), ensure_ascii=False)
    sealed = AESGCM(key).encrypt(iv, plaintext.encode("utf-8"), None)
    return {
        "version": ENVELOPE_VERSION,
        "iv": iv.hex(),
        "authTag": sealed[-_TAG_BYTES:].hex(),
        "encrypted": sealed[:-_TAG_BYTES].hex(),
    }


def _parse_envelope(envelope: Mapping[str, Any] | str | bytes) -> Mapping[str, Any]:
    if isinstance(envelope, str | bytes):
        try:
            parsed = json.loads(envelope)
        except json.JSONDecodeError as error:
            raise ConnectionDetailsError(
                "Encrypted connection details are not valid JSON."
            ) from error
    else:
        parsed = envelope
    if not isinstance(parsed, Mapping):
        raise ConnectionDetailsError("Encrypted connection details must be a JSON object.")
    return parsed


def decrypt_details(envelope: Mapping[str, Any] | str | bytes, key_hex: str) -> dict[str, Any]:
    """Decrypt the platform's envelope back into the details dictionary."""
    key = _key_bytes(key_hex)
    fields = _parse_envelope(envelope)
    if fields.get("version") != ENVELOPE_VERSION:
        raise ConnectionDetailsError(
            f"Unsupported connection details format version {fields.get('version')!r};"
            f" expected {ENVELOPE_VERSION}."
        )
    try:
        iv = bytes.fromhex(str(fields["iv"]))
        tag = bytes.fromhex(str(fields["authTag"]))
        ciphertext = bytes.fromhex(str(fields["encrypted"]))
    except (KeyError, ValueError) as error:
        raise ConnectionDetailsError(
            "Encrypted connection details need hex fields 'iv', 'authTag' and 'encrypted'."
        ) from error
    if len(iv) != _IV_BYTES or len(tag) != _TAG_BYTES:
        raise ConnectionDetailsError(
            f"Encrypted connection details need a {_IV_BYTES}-byte iv and a"
            f" {_TAG_BYTES}-byte authTag."
        )
    try:
        plaintext = AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag as error:
        raise ConnectionDetailsError(
            f"Cannot decrypt connection details: they were encrypted with a different"
            f" {KEY_ENV_VAR} (or altered). Use the platform's key."
        ) from error
    details = json.loads(plaintext.decode("utf-8"))
    if not isinstance(details, dict):
        raise ConnectionDetailsError("Decrypted connection details are not a JSON object.")
    return details
