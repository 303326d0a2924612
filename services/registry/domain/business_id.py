"""Finnish business ID (Y-tunnus): seven digits, a hyphen and a check digit.

Weights 7, 9, 10, 5, 8, 4, 2 over the digits; remainder 0 gives check digit 0, remainder 1 is
never issued, otherwise the check digit is 11 - remainder. ``python-stdnum`` implements exactly
that; this wrapper gives the messages a person can act on.
"""

from __future__ import annotations

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.fi import ytunnus


class InvalidBusinessId(ValueError):
    pass


def normalise_business_id(value: str) -> str:
    try:
        return str(ytunnus.format(ytunnus.validate(value)))
    except InvalidLength as exc:
        raise InvalidBusinessId("must be 7 digits, a hyphen and a check digit (1234567-8)") from exc
    except InvalidFormat as exc:
        raise InvalidBusinessId("must be 7 digits, a hyphen and a check digit (1234567-8)") from exc
    except (InvalidChecksum, InvalidComponent) as exc:
        raise InvalidBusinessId("check digit does not match: not a valid Y-tunnus") from exc


WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_id_of(number: int) -> str | None:
    """The Y-tunnus made of the seven-digit ``number`` (taken modulo 10 000 000) and its check
    digit, or None for the numbers that are never issued (remainder 1). For demo data, tests
    and benchmarks that need valid business IDs."""
    digits = f"{number % 10_000_000:07d}"
    rem = sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11
    if rem == 1:
        return None
    return f"{digits}-{0 if rem == 0 else 11 - rem}"
