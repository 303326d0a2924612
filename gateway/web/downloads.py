"""Tables as CSV downloads (RFC 4180, UTF-8 with a byte-order mark so that spreadsheet programs
read ä and ö right). A cell that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return) is prefixed with an apostrophe."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from fastapi.responses import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def csv_response(filename: str, header: Sequence[str],
                 rows: Iterable[Sequence[object]]) -> Response:
    name = SAFE_FILENAME.sub("-", filename).strip("-.") or "download.csv"
    body = "\ufeff" + csv_text(header, rows)
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"',
                             "cache-control": "no-store"})
