"""A default assignment's reason in the words a holder reads (fi, sv, en), from the solver's
status code and the offering's place in the voucher's own ranking."""

from __future__ import annotations

from contracts.registry import LocalizedText
from services.matching.domain.assignment import Status

_FI = {
    Status.first_candidate: "paras vaihtoehtosi",
    Status.first_was_full: "{n}. vaihtoehtosi; ensimmäinen oli täynnä",
    Status.first_provider_capped: "{n}. vaihtoehtosi; ensimmäisen tuottaja oli saanut "
                                  "jo osuutensa tästä ajosta",
    Status.equal_score: "{n}. vaihtoehtosi, yhtä hyvä kuin ensimmäinen",
    Status.fixed: "alueen virkailijan asettama",
    Status.no_candidates: "ei osoitettu: sopivaa palvelua ei ole",
    Status.all_full: "ei osoitettu: kaikki vaihtoehdot olivat täynnä",
    Status.providers_capped: "ei osoitettu: vapaita paikkoja oli vain tuottajilla, jotka "
                             "olivat saaneet osuutensa",
}
_SV = {
    Status.first_candidate: "ditt bästa alternativ",
    Status.first_was_full: "ditt {n}:e alternativ; det första var fullt",
    Status.first_provider_capped: "ditt {n}:e alternativ; det förstas producent hade redan "
                                  "fått sin andel",
    Status.equal_score: "ditt {n}:e alternativ, lika bra som det första",
    Status.fixed: "fastställt av regionens handläggare",
    Status.no_candidates: "inte anvisat: ingen lämplig tjänst",
    Status.all_full: "inte anvisat: alla alternativ var fulla",
    Status.providers_capped: "inte anvisat: lediga platser fanns bara hos producenter som "
                             "fått sin andel",
}
_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}
_EN = {
    Status.first_candidate: "your 1st candidate",
    Status.first_was_full: "your {en} candidate; the 1st was full",
    Status.first_provider_capped: "your {en} candidate; the 1st one's provider had reached "
                                  "its share of this run",
    Status.equal_score: "your {en} candidate, scored equal to the 1st",
    Status.fixed: "set by a region administrator",
    Status.no_candidates: "not assigned: no eligible offering",
    Status.all_full: "not assigned: every candidate was full",
    Status.providers_capped: "not assigned: candidates with places left were at providers "
                             "at their share",
}


def explanation(status: int, rank: int | None) -> LocalizedText:
    """``rank``: 1-based place of the offering in the voucher's ranking."""
    s = Status(status)
    n = rank or 1
    en = _ORDINAL.get(n, f"{n}th")
    return LocalizedText(fi=_FI[s].format(n=n), sv=_SV[s].format(n=n), en=_EN[s].format(en=en))
