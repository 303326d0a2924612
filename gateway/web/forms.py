"""Forms: the values sent, the errors tied to their fields (shown next to each field and
summarised at the top), and parsing of what people type (euros with a comma, whole numbers,
dates) into what the API takes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from starlette.datastructures import FormData

from gateway.web.client import ApiError

MAX_FIELD = 10_000  # characters kept of any one field (the API's own limits are lower)
EUROS = re.compile(r"^[0-9]{1,9}([.,][0-9]{1,2})?$")


class ApiMessage(str):
    """A message written by the API (in English): the page marks it with ``lang="en"``."""

    __slots__ = ()
    lang = "en"


def field_id(name: str) -> str:
    """An element id for a field name (``title.fi`` → ``field-title-fi``)."""
    return "field-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, data: FormData, *, lists: tuple[str, ...] = ()) -> Form:
        form = cls()
        for key in data:
            if key in lists:
                form.lists[key] = [str(v)[:MAX_FIELD] for v in data.getlist(key)][:200]
            else:
                value = data.get(key)
                form.values[key] = value[:MAX_FIELD] if isinstance(value, str) else ""
        return form

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def checked(self, name: str, value: str) -> bool:
        return value in self.lists.get(name, [])

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.general

    def summary(self, labels: dict[str, str]) -> list[tuple[str, str, str]]:
        """(element id, field label, message) for the error summary, in form order."""
        order = list(labels)
        named = sorted(self.errors.items(),
                       key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        return [(field_id(k), labels.get(k, k), v) for k, v in named]

    def take_api_errors(self, exc: ApiError, *, aliases: dict[str, str] | None = None,
                        known: set[str] | None = None, fallback: str = "") -> None:
        """The API's ``errors: [{field, message}]`` onto the form's fields (``municipalities.1``
        → ``municipalities``); what names no field of the form goes to the summary."""
        aliases = aliases or {}
        for name, message in exc.field_errors:
            target = aliases.get(name, name)
            if known is not None and target not in known:
                stem = target.split(".", 1)[0]
                target = aliases.get(stem, stem)
            if known is None or target in known:
                self.error(target, ApiMessage(message))
            else:
                self.general.append(ApiMessage(f"{name}: {message}" if name else message))
        if not exc.field_errors:
            self.general.append(fallback or ApiMessage(exc.detail))


def euros_to_cents(text: str) -> int:
    """``"950"``, ``"950,5"`` or ``"1 200,00"`` → cents; ValueError otherwise."""
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace("€", "")
    if not EUROS.match(cleaned):
        raise ValueError(text)
    try:
        return int(Decimal(cleaned.replace(",", ".")) * 100)
    except InvalidOperation as exc:
        raise ValueError(text) from exc


def whole_number(text: str, low: int, high: int) -> int:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 9:
        raise ValueError(text)
    value = int(cleaned)
    if not low <= value <= high:
        raise ValueError(text)
    return value


def calendar_date(text: str) -> date:
    """An ISO date (what ``<input type=date>`` sends) or a Finnish ``d.m.yyyy``."""
    text = text.strip()
    m = re.fullmatch(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", text)
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError(text)
    return date.fromisoformat(text)
