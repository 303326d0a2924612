"""Registry search over 5,000 offerings: latency per query shape, side by side in one run.

Seeds a registry database with 300 providers (about 10 % suspended, whose offerings must not
show) and 5,000 offerings across the three demo regions, starts the registry as a uvicorn
process (uvloop, httptools) with its own nats-server, and drives each query shape from a
separate load-generator process on 127.0.0.1. Goal: p95 <= 20 ms.

    .venv/bin/python bench/registry_search.py [--offerings 5000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from common import Proc, load, machine  # bench/ is on sys.path when run as a script

from kit.db import Database
from kit.migrate import upgrade
from kit.natsserver import NatsServer
from services.registry.domain.places import MUNICIPALITIES, SERVICE_TYPES
from services.registry.models import (
    Accreditation,
    Offering,
    OfferingLanguage,
    OfferingMunicipality,
    Provider,
)

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("valmennus työnhaku ura ohjaus koulutus rekrytointi yrittäjä kasvu digitaidot "
         "ryhmä yksilö verkossa englanniksi ruotsiksi nopea kokenut tuettu kielikoulutus "
         "asiakaspalvelu logistiikka hoiva rakennus ohjelmointi myynti").split()
EXTRA_LANGS = ["sv", "en", "ar", "so", "ru", "uk", "et", "fa"]


async def seed(url: str, n_offerings: int, rnd: random.Random) -> None:
    db = Database(url)
    await upgrade(db, str(ROOT / "services" / "registry" / "migrations"), service="registry")
    by_region: dict[str, list[str]] = {}
    for code, (_fi, _sv, region) in MUNICIPALITIES.items():
        by_region.setdefault(region, []).append(code)
    now = datetime.now(UTC)
    providers: list[tuple[str, str, str, bool]] = []
    async with db.session() as s:
        for i in range(300):
            region = list(by_region)[i % 3]
            pid = str(uuid.uuid4())
            name = f"{rnd.choice(WORDS).capitalize()} {i} Oy"
            s.add(Provider(id=pid, business_id=f"{i:07d}-B", legal_name=name,
                           contact_name="x", contact_email="x@example.fi", phone=None,
                           website=None, description={"fi": "x"}, created_at=now, version=1))
            await s.flush()
            state = "suspended" if i % 10 == 9 else "approved"
            s.add(Accreditation(provider_id=pid, region_code=region, state=state,
                                valid_until=date.today() + timedelta(days=365),
                                decided_at=now, reason="", version=1))
            providers.append((pid, region, name, state == "approved"))
        await s.flush()
        for j in range(n_offerings):
            pid, region, name, approved = providers[j % len(providers)]
            munis = rnd.sample(by_region[region], rnd.randint(1, 3))
            langs = ["fi", *rnd.sample(EXTRA_LANGS, rnd.randint(0, 2))]
            title = " ".join(rnd.sample(WORDS, 3))
            desc = " ".join(rnd.sample(WORDS, 12))
            oid = str(uuid.uuid4())
            status = "withdrawn" if j % 25 == 0 else "published"
            s.add(Offering(
                id=oid, provider_id=pid, region_code=region,
                service_type=rnd.choice(list(SERVICE_TYPES)), title={"fi": title},
                description={"fi": desc}, municipalities=sorted(munis),
                remote=rnd.random() < 0.2, languages=langs,
                unit_price_cents=rnd.randint(20_000, 500_000), capacity=rnd.randint(0, 30),
                next_start=date.today() + timedelta(days=rnd.randint(0, 180)),
                duration_days=42, status=status, visible=status == "published" and approved,
                provider_name=name,
                search_text=f"{name} {title} {desc}".lower(), created_at=now, updated_at=now,
                version=1))
            s.add_all(OfferingMunicipality(offering_id=oid, municipality_code=m) for m in munis)
            s.add_all(OfferingLanguage(offering_id=oid, language=lang) for lang in langs)
            if j % 500 == 499:
                await s.flush()
        await s.commit()
    await db.dispose()


SHAPES = [
    ("all regions, first page", {}),
    ("region", {"region": "pirkanmaa"}),
    ("region + type + language", {"region": "pirkanmaa", "service_type": "career-guidance",
                                  "language": "sv"}),
    ("region + municipality", {"region": "pirkanmaa", "municipality": "837"}),
    ("remote only", {"remote": "true"}),
    ("free text, common word", {"q": "valmennus"}),
    ("free text, two words + region", {"region": "pohjois-pohjanmaa", "q": "ura ryhmä"}),
    ("free text, no match", {"q": "zzzz"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offerings", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    rnd = random.Random(20261123)
    results = []
    with tempfile.TemporaryDirectory(prefix="seteli-search-") as tmp_s:
        tmp = Path(tmp_s)
        url = f"sqlite+aiosqlite:///{tmp / 'registry.db'}"
        asyncio.run(seed(url, args.offerings, rnd))
        nats = NatsServer(tmp / "nats")
        nats.start()
        proc = Proc("services.registry.main:app",
                    {"REGISTRY_DATABASE_URL": url, "NATS_URL": nats.url,
                     "REGISTRY_LOG_LEVEL": "WARNING"}, tmp / "registry.log",
                    workers=args.workers)
        try:
            proc.start()
            for name, params in SHAPES:
                target = f"{proc.url}/offerings?{urlencode(params)}"
                single = load(target, seconds=args.seconds / 2, concurrency=1)
                loaded = load(target, seconds=args.seconds, concurrency=args.concurrency)
                total = __import__("httpx").get(target).json()["total"]
                results.append((name, total, single, loaded))
        finally:
            proc.stop()
            nats.stop()

    print(f"\nRegistry search over {args.offerings} offerings — {machine()}, "
          f"{args.workers} registry worker process(es)")
    print(f"  {'query shape':<32}{'matches':>8}  {'1 client p50/p95/p99 ms':>26}  "
          f"{args.concurrency} clients req/s   p95 ms")
    worst_single = worst_loaded = 0.0
    for name, total, single, loaded in results:
        worst_single = max(worst_single, single["p95_ms"])
        worst_loaded = max(worst_loaded, loaded["p95_ms"])
        print(f"  {name:<32}{total:>8}  {single['p50_ms']:>8.2f}/{single['p95_ms']:>6.2f}/"
              f"{single['p99_ms']:>6.2f}      {loaded['req_per_s']:>8.0f}   "
              f"{loaded['p95_ms']:>7.2f}")
    for label, worst in (("1 client", worst_single), (f"{args.concurrency} clients", worst_loaded)):
        verdict = "met" if worst <= 20 else "NOT met"
        print(f"  worst p95 with {label}: {worst:.2f} ms (goal <= 20 ms): {verdict}")


if __name__ == "__main__":
    main()
