"""The data source's tokens during a run: seeded into a private store, rotations saved back.

TikTok refresh tokens rotate: after a refresh the old one is dead. The tap writes the new
tokens to its token store before using them; the runner copies them into the encrypted
``connection_details`` so the next run (on any host) starts from them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dra_tiktok_ads import crypto
from dra_tiktok_ads.details import ConnectionDetails
from dra_tiktok_ads.sync.settings import LOGGER
from tap_tiktok_ads.auth import TokenError, TokenStore


def seed_token_store(folder: Path, details: ConnectionDetails) -> TokenStore:
    """A token store in ``folder`` (the run's private one) holding the details' tokens;
    the tap reads it before its own settings. The file is written with mode 0600."""
    store = TokenStore(folder / "tokens.json")
    store.save(details.tokens())
    return store


class TokenWriteBack:
    """Copies tokens the tap rotated into the store back into ``connection_details``.

    ``check()`` runs every second while Meltano works and once more at the end, so a rotated
    refresh token (the old one is already dead) reaches the database within a second of the
    tap persisting it, not only after the run. The update is a compare-and-set on the
    envelope last read or written: if the platform replaced the details meanwhile (the user
    reconnected), the newer connection wins and nothing is overwritten.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        data_source_id: int,
        *,
        details: ConnectionDetails,
        envelope: Any,
        store: TokenStore,
        key_hex: str,
        secrets: set[str],
    ) -> None:
        self._conn = conn
        self._id = data_source_id
        self._details = details
        self._envelope = envelope
        self._store = store
        self._key_hex = key_hex
        self._secrets = secrets
        self._lock = threading.Lock()
        self.rotated = False
        self.conflict = False

    def check(self) -> None:
        with self._lock:
            try:
                stored = self._store.load()
            except TokenError as error:
                LOGGER.warning("data source %s: %s", self._id, error)
                return
            if stored is None or not stored.access_token or self._details.same_tokens(stored):
                return
            self._secrets.update(s for s in (stored.access_token, stored.refresh_token) if s)
            details = self._details.with_tokens(stored)
            envelope = details.encrypt(self._key_hex)
            row = self._conn.execute(
                "UPDATE dra_data_sources SET connection_details = %s"
                " WHERE id = %s AND connection_details = %s RETURNING id",
                (Jsonb(envelope), self._id, Jsonb(self._envelope)),
            ).fetchone()
            if row is None:
                self.conflict = True
                LOGGER.warning(
                    "data source %s: connection details changed during the run (reconnected?);"
                    " kept them and dropped the tokens this run rotated",
                    self._id,
                )
            else:
                LOGGER.info("data source %s: rotated tokens saved (encrypted)", self._id)
                self.rotated = True
            self._details, self._envelope = details, envelope

    def check_and_log_failure(self) -> None:
        """``check()`` where a failure must not stop the run: logged, tried again next time."""
        try:
            self.check()
        except (psycopg.Error, OSError, crypto.ConnectionDetailsError) as error:
            LOGGER.error("saving rotated tokens failed (will retry): %s", type(error).__name__)
