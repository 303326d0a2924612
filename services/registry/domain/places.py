"""Regions (organisers) and their municipalities, with Statistics Finland's municipality codes.

Seeded by a migration; the tables are the source at run time, this module only feeds the seed.
"""

from __future__ import annotations

REGIONS: dict[str, dict[str, str]] = {
    "pirkanmaa": {"fi": "Pirkanmaa", "sv": "Birkaland", "en": "Pirkanmaa"},
    "pohjois-pohjanmaa": {
        "fi": "Pohjois-Pohjanmaa", "sv": "Norra Österbotten", "en": "North Ostrobothnia"
    },
    "etela-pohjanmaa": {
        "fi": "Etelä-Pohjanmaa", "sv": "Södra Österbotten", "en": "South Ostrobothnia"
    },
}

# code: (Finnish name, Swedish name or None when the same, region)
MUNICIPALITIES: dict[str, tuple[str, str | None, str]] = {
    # Pirkanmaa
    "020": ("Akaa", None, "pirkanmaa"),
    "108": ("Hämeenkyrö", "Tavastkyro", "pirkanmaa"),
    "143": ("Ikaalinen", "Ikalis", "pirkanmaa"),
    "177": ("Juupajoki", None, "pirkanmaa"),
    "211": ("Kangasala", None, "pirkanmaa"),
    "250": ("Kihniö", None, "pirkanmaa"),
    "291": ("Kuhmoinen", None, "pirkanmaa"),
    "418": ("Lempäälä", None, "pirkanmaa"),
    "508": ("Mänttä-Vilppula", None, "pirkanmaa"),
    "536": ("Nokia", None, "pirkanmaa"),
    "562": ("Orivesi", None, "pirkanmaa"),
    "581": ("Parkano", None, "pirkanmaa"),
    "604": ("Pirkkala", "Birkala", "pirkanmaa"),
    "619": ("Punkalaidun", None, "pirkanmaa"),
    "635": ("Pälkäne", None, "pirkanmaa"),
    "702": ("Ruovesi", None, "pirkanmaa"),
    "790": ("Sastamala", None, "pirkanmaa"),
    "837": ("Tampere", "Tammerfors", "pirkanmaa"),
    "887": ("Urjala", None, "pirkanmaa"),
    "908": ("Valkeakoski", None, "pirkanmaa"),
    "922": ("Vesilahti", None, "pirkanmaa"),
    "936": ("Virrat", "Virdois", "pirkanmaa"),
    "980": ("Ylöjärvi", None, "pirkanmaa"),
    # Pohjois-Pohjanmaa
    "009": ("Alavieska", None, "pohjois-pohjanmaa"),
    "069": ("Haapajärvi", None, "pohjois-pohjanmaa"),
    "071": ("Haapavesi", None, "pohjois-pohjanmaa"),
    "072": ("Hailuoto", "Karlö", "pohjois-pohjanmaa"),
    "139": ("Ii", "Ijo", "pohjois-pohjanmaa"),
    "208": ("Kalajoki", None, "pohjois-pohjanmaa"),
    "244": ("Kempele", None, "pohjois-pohjanmaa"),
    "305": ("Kuusamo", None, "pohjois-pohjanmaa"),
    "317": ("Kärsämäki", None, "pohjois-pohjanmaa"),
    "425": ("Liminka", "Limingo", "pohjois-pohjanmaa"),
    "436": ("Lumijoki", None, "pohjois-pohjanmaa"),
    "483": ("Merijärvi", None, "pohjois-pohjanmaa"),
    "494": ("Muhos", None, "pohjois-pohjanmaa"),
    "535": ("Nivala", None, "pohjois-pohjanmaa"),
    "563": ("Oulainen", None, "pohjois-pohjanmaa"),
    "564": ("Oulu", "Uleåborg", "pohjois-pohjanmaa"),
    "615": ("Pudasjärvi", None, "pohjois-pohjanmaa"),
    "625": ("Pyhäjoki", None, "pohjois-pohjanmaa"),
    "626": ("Pyhäjärvi", None, "pohjois-pohjanmaa"),
    "630": ("Pyhäntä", None, "pohjois-pohjanmaa"),
    "678": ("Raahe", "Brahestad", "pohjois-pohjanmaa"),
    "691": ("Reisjärvi", None, "pohjois-pohjanmaa"),
    "746": ("Sievi", None, "pohjois-pohjanmaa"),
    "748": ("Siikajoki", None, "pohjois-pohjanmaa"),
    "791": ("Siikalatva", None, "pohjois-pohjanmaa"),
    "785": ("Vaala", None, "pohjois-pohjanmaa"),
    "832": ("Taivalkoski", None, "pohjois-pohjanmaa"),
    "859": ("Tyrnävä", None, "pohjois-pohjanmaa"),
    "889": ("Utajärvi", None, "pohjois-pohjanmaa"),
    "977": ("Ylivieska", None, "pohjois-pohjanmaa"),
    # Etelä-Pohjanmaa
    "005": ("Alajärvi", None, "etela-pohjanmaa"),
    "010": ("Alavus", "Alavo", "etela-pohjanmaa"),
    "052": ("Evijärvi", None, "etela-pohjanmaa"),
    "099": ("Isojoki", "Storå", "etela-pohjanmaa"),
    "145": ("Ilmajoki", "Ilmola", "etela-pohjanmaa"),
    "151": ("Isokyrö", "Storkyro", "etela-pohjanmaa"),
    "218": ("Karijoki", "Bötom", "etela-pohjanmaa"),
    "232": ("Kauhajoki", None, "etela-pohjanmaa"),
    "233": ("Kauhava", None, "etela-pohjanmaa"),
    "300": ("Kuortane", None, "etela-pohjanmaa"),
    "301": ("Kurikka", None, "etela-pohjanmaa"),
    "403": ("Lappajärvi", None, "etela-pohjanmaa"),
    "408": ("Lapua", "Lappo", "etela-pohjanmaa"),
    "743": ("Seinäjoki", None, "etela-pohjanmaa"),
    "759": ("Soini", None, "etela-pohjanmaa"),
    "846": ("Teuva", "Östermark", "etela-pohjanmaa"),
    "934": ("Vimpeli", "Vindala", "etela-pohjanmaa"),
    "989": ("Ähtäri", "Etseri", "etela-pohjanmaa"),
}

# code: ({fi, sv, en}, default payment scheme as (milestone, share in basis points))
SERVICE_TYPES: dict[str, tuple[dict[str, str], list[tuple[str, int]]]] = {
    "job-search-coaching": (
        {"fi": "Työnhakuvalmennus", "sv": "Jobbsökarträning", "en": "Job-search coaching"},
        [("start", 3000), ("completion", 4000), ("outcome", 3000)],
    ),
    "career-guidance": (
        {"fi": "Uraohjaus", "sv": "Karriärvägledning", "en": "Career guidance"},
        [("start", 4000), ("completion", 4000), ("outcome", 2000)],
    ),
    "competence-training": (
        {"fi": "Osaamisen kehittäminen", "sv": "Kompetensutveckling",
         "en": "Competence training"},
        [("start", 2000), ("completion", 5000), ("outcome", 3000)],
    ),
    "recruitment-help": (
        {"fi": "Rekrytointiapu", "sv": "Rekryteringshjälp", "en": "Recruitment help"},
        [("start", 3000), ("completion", 3000), ("outcome", 4000)],
    ),
    "business-development": (
        {"fi": "Yrityksen kehittäminen", "sv": "Företagsutveckling",
         "en": "Business development"},
        [("start", 3000), ("completion", 7000)],
    ),
    "internationalisation": (
        {"fi": "Kansainvälistyminen", "sv": "Internationalisering", "en": "Internationalisation"},
        [("start", 3000), ("completion", 7000)],
    ),
}

# A municipality's Swedish name → its Finnish name, for the free-text search (lower case).
SWEDISH_PLACE_NAMES: dict[str, str] = {
    sv.casefold(): fi for fi, sv, _ in MUNICIPALITIES.values() if sv
}


def finnish_place_names(text: str | None) -> str | None:
    """``text`` with each word that is a municipality's Swedish name replaced by its Finnish
    name, so that a search for Tammerfors finds what a search for Tampere finds."""
    if not text:
        return text
    return " ".join(SWEDISH_PLACE_NAMES.get(word.casefold(), word) for word in text.split())
