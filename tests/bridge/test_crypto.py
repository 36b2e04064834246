"""Connection details encrypted the platform's way (AES-256-GCM, hex JSON envelope)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dra_tiktok_ads import crypto

KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
OTHER_KEY = "ff" * 32
DETAILS = {
    "access_token": "act.secret-token",
    "refresh_token": "rft.secret-refresh",
    "token_expires_at": "2030-01-01T00:00:00Z",
    "advertiser_ids": ["7000000000000000001"],
    "app_id": "sim-app-id",
}


def test_round_trip_and_envelope_format():
    envelope = crypto.encrypt_details(DETAILS, KEY)
    assert set(envelope) == {"version", "iv", "authTag", "encrypted"}
    assert envelope["version"] == 1
    assert len(bytes.fromhex(envelope["iv"])) == 12
    assert len(bytes.fromhex(envelope["authTag"])) == 16
    assert "secret-token" not in json.dumps(envelope)
    assert crypto.decrypt_details(envelope, KEY) == DETAILS
    # Stored as JSON text (jsonb) and read back from that too.
    assert crypto.decrypt_details(json.dumps(envelope), KEY) == DETAILS


def test_each_encryption_uses_a_fresh_iv():
    first = crypto.encrypt_details(DETAILS, KEY)
    second = crypto.encrypt_details(DETAILS, KEY)
    assert first["iv"] != second["iv"]
    assert first["encrypted"] != second["encrypted"]


def test_reads_an_envelope_written_independently():
    """What the platform writes: ciphertext and tag as separate hex fields of the
    compact JSON of the details."""
    iv = bytes(range(12))
    sealed = AESGCM(bytes.fromhex(KEY)).encrypt(iv, b'{"access_token":"abc"}', None)
    envelope = {
        "version": 1,
        "iv": iv.hex(),
        "authTag": sealed[-16:].hex(),
        "encrypted": sealed[:-16].hex(),
    }
    assert crypto.decrypt_details(envelope, KEY) == {"access_token": "abc"}


def test_plaintext_is_compact_json_like_json_stringify():
    envelope = crypto.encrypt_details({"a": 1, "b": "x"}, KEY)
    plaintext = AESGCM(bytes.fromhex(KEY)).decrypt(
        bytes.fromhex(envelope["iv"]),
        bytes.fromhex(envelope["encrypted"]) + bytes.fromhex(envelope["authTag"]),
        None,
    )
    assert plaintext == b'{"a":1,"b":"x"}'


def test_value_encrypted_with_another_key_is_rejected_clearly():
    envelope = crypto.encrypt_details(DETAILS, OTHER_KEY)
    with pytest.raises(crypto.ConnectionDetailsError, match="different ENCRYPTION_KEY"):
        crypto.decrypt_details(envelope, KEY)


def test_tampered_value_is_rejected():
    envelope = crypto.encrypt_details(DETAILS, KEY)
    flipped = format(int(envelope["encrypted"][:2], 16) ^ 1, "02x")
    envelope["encrypted"] = flipped + envelope["encrypted"][2:]
    with pytest.raises(crypto.ConnectionDetailsError):
        crypto.decrypt_details(envelope, KEY)


@pytest.mark.parametrize("bad_key", ["", "abc", "zz" * 32, "00" * 16, "00" * 33])
def test_key_must_be_64_hex_characters(bad_key):
    with pytest.raises(crypto.ConnectionDetailsError, match="ENCRYPTION_KEY must be 64"):
        crypto.encrypt_details(DETAILS, bad_key)


@pytest.mark.parametrize(
    "envelope",
    [
        "not json",
        "[1, 2]",
        {"version": 2, "iv": "00", "authTag": "00", "encrypted": "00"},
        {"version": 1, "iv": "xyz", "authTag": "00", "encrypted": "00"},
        {"version": 1, "iv": "00" * 12, "authTag": "00" * 4, "encrypted": "00"},
    ],
)
def test_malformed_envelopes_are_rejected(envelope):
    with pytest.raises(crypto.ConnectionDetailsError):
        crypto.decrypt_details(envelope, KEY)


def test_key_from_env(monkeypatch):
    monkeypatch.setenv("ENCRYPTION_KEY", KEY)
    assert crypto.key_from_env() == KEY
    monkeypatch.setenv("ENCRYPTION_KEY", "short")
    with pytest.raises(crypto.ConnectionDetailsError, match="ENCRYPTION_KEY"):
        crypto.key_from_env()
    monkeypatch.delenv("ENCRYPTION_KEY")
    with pytest.raises(crypto.ConnectionDetailsError, match="ENCRYPTION_KEY is not set"):
        crypto.key_from_env()


def test_error_messages_never_contain_the_key_or_details():
    envelope = crypto.encrypt_details(DETAILS, OTHER_KEY)
    with pytest.raises(crypto.ConnectionDetailsError) as caught:
        crypto.decrypt_details(envelope, KEY)
    assert KEY not in str(caught.value)
    assert "secret" not in str(caught.value)
