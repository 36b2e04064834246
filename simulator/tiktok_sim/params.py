"""Reading request parameters the way the real API does: scalars plus JSON-encoded arrays."""

from __future__ import annotations

import json
from datetime import date
from typing import Any


class ApiError(Exception):
    """An error answered in the envelope (HTTP 200 unless ``http_status`` says otherwise)."""

    def __init__(self, code: int, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


def param_error(message: str) -> ApiError:
    return ApiError(40002, message)


class Params:
    """Typed access to query-string (strings) or JSON-body (any type) parameters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise param_error(f"{name}: Missing data for required field.")
            return None
        return str(value)

    def required_text(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise param_error(f"{name}: Not a valid integer.") from None
        if not minimum <= number <= maximum:
            raise param_error(f"{name}: Must be between {minimum} and {maximum}, got {number}.")
        return number

    def boolean(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1") if value is not None else False

    def day(self, name: str) -> date:
        value = self.required_text(name)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise param_error(f"{name}: Not a valid date, expected YYYY-MM-DD.") from None

    def _json(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise param_error(
                f"{name}: Not valid JSON (arrays and objects are JSON-encoded)."
            ) from None

    def json_list(self, name: str, required: bool = False) -> list[Any] | None:
        value = self._json(name)
        if value is None:
            if required:
                raise param_error(f"{name}: Missing data for required field.")
            return None
        if not isinstance(value, list):
            raise param_error(f"{name}: Not a valid list.")
        return value

    def string_list(self, name: str, required: bool = False) -> list[str] | None:
        values = self.json_list(name, required)
        if values is None:
            return None
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
            raise param_error(f"{name}: Every item must be a string.")
        return [str(v) for v in values]

    def json_object(self, name: str) -> dict[str, Any] | None:
        value = self._json(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise param_error(f"{name}: Not a valid object.")
        return value
