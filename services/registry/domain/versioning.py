"""Optimistic concurrency: resources carry an integer ``version`` sent as the entity tag
``"<version>"``; a change with ``If-Match`` applies only while the tag still matches."""

from __future__ import annotations


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_satisfied(header: str | None, version: int) -> bool:
    """RFC 9110 ``If-Match``: absent or ``*`` always matches; otherwise one of the listed tags
    must be the current one. Weak tags (``W/"3"``) and bare numbers (``3``) are accepted too:
    a version number is the whole entity tag here."""
    if header is None:
        return True
    header = header.strip()
    if header == "*":
        return True
    for raw in header.split(","):
        tag = raw.strip().removeprefix("W/").strip()
        if len(tag) >= 2 and tag[0] == tag[-1] == '"':
            tag = tag[1:-1]
        if tag == str(version):
            return True
    return False
