"""The web pages' own cost: the search page and an offering page beside the API calls they are
built from, through the same gateway, side by side in one run, with the demo data and again
after publishing more offerings (how the cost grows with data).

Everything on 127.0.0.1: its own nats-server, the three services and the gateway as uvicorn
processes (tests/webstack.py: SQLite, demo data), the load from a separate process
(bench/loadgen.py). The windows alternate API, page, API, page … (``--rounds`` times); each
page window is compared with the mean of the API windows around it, and the summary is the
median over rounds. One client at a time gives latency (p50/p95); eight at once give
throughput.

    .venv/bin/python bench/web_pages.py [--rounds 3] [--seconds 3] [--more 1000]

``--part vouchers`` measures instead the citizen's compare page and the region admin's budget
page beside their main API calls, signed in (session cookie for the page, bearer token for the
API), after publishing ``--offerings`` offerings of the voucher's service in its region and
issuing ``--vouchers`` vouchers from the budget (CSV bulk issuance, 2 000 rows a request).
Before measuring it waits until the events of the loading are consumed (every JetStream
consumer with nothing pending and the streams still for 3 s; at most ``--settle`` seconds), so
that the windows do not share the machine with the services catching up. The ranking the
compare page asks for (``GET /recommendations/{id}``) is measured beside the page too, and
``--idle-probes`` times it after 2.3 s without requests (the matching service rebuilds the
region's index in that request) against the requests right after (the index reused);
``--calls N`` first times each call the compare page makes, one after another, N times each,
beside the page (where its time goes):

    .venv/bin/python bench/web_pages.py --part vouchers [--offerings 5000] [--vouchers 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
from common import load, machine  # bench/ is on sys.path when run as a script

from tests.support import valid_business_id
from tests.webstack import WebStack, web_stack

PAIRS = {
    "search": ("/api/v1/offerings?region=pirkanmaa&limit=10",
               "/offerings?region=pirkanmaa&limit=10&lang=fi"),
    "offering": ("/api/v1/offerings/{id}", "/offerings/{id}?lang=fi"),
}


async def publish(stack: WebStack, n: int) -> None:
    """``n`` more offerings of one demo provider in Pirkanmaa, through the API."""
    provider = stack.provider_named("Polku Valmennus Oy")
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        r = await http.post("/auth/dev-token", json={"role": "provider",
                                                     "provider_id": provider["id"]})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with sem:
                r = await http.post("/api/v1/offerings", headers=auth, json={
                    "region": "pirkanmaa", "service_type": "career-guidance",
                    "title": {"fi": f"Mittausvalmennus {i}"},
                    "description": {"fi": "Valmennusta mittausta varten."},
                    "municipalities": ["837"], "languages": ["fi"],
                    "unit_price_cents": 50_000 + i, "capacity": 5, "duration_days": 30,
                    "next_start": (date.today() + timedelta(days=1 + i % 600)).isoformat()})
                assert r.status_code == 201, r.text

        await asyncio.gather(*(one(i) for i in range(n)))


BULK_ROWS = 2_000  # rows per bulk-issuance request (each well within the gateway's timeout)
Pair = tuple[str, dict[str, str], str, dict[str, str]]  # API URL, its headers, page, its


def measure(stack: WebStack, rounds: int, seconds: float) -> dict[str, dict[str, Any]]:
    first = httpx.get(stack.url + "/api/v1/offerings", params={"region": "pirkanmaa"},
                      timeout=15).json()
    offering = first["items"][0]["id"]
    pairs = {name: (stack.url + api.format(id=offering), {},
                    stack.url + page.format(id=offering), {})
             for name, (api, page) in PAIRS.items()}
    return compare(pairs, first["total"], rounds, seconds)


def compare(pairs: dict[str, Pair], total: int, rounds: int, seconds: float
            ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, (api, api_headers, page, page_headers) in pairs.items():
        windows: dict[str, list[dict[str, Any]]] = {"api": [], "page": []}
        loaded: dict[str, list[dict[str, Any]]] = {"api": [], "page": []}
        sent = {"api": api_headers, "page": page_headers}
        for _ in range(rounds):
            for kind, url in (("api", api), ("page", page)):
                windows[kind].append(load(url, seconds=seconds, concurrency=1,
                                          headers=sent[kind]))
                loaded[kind].append(load(url, seconds=seconds, concurrency=8,
                                         headers=sent[kind]))
        windows["api"].append(load(api, seconds=seconds, concurrency=1, headers=api_headers))
        loaded["api"].append(load(api, seconds=seconds, concurrency=8, headers=api_headers))

        def around(kind: str, figure: str, i: int, w: dict[str, list[dict[str, Any]]]
                   ) -> tuple[float, float]:
            base = (w["api"][i][figure] + w["api"][i + 1][figure]) / 2
            return w[kind][i][figure], base

        out[name] = {
            "total": total,
            "page_p50": statistics.median(w["p50_ms"] for w in windows["page"]),
            "page_p95": statistics.median(w["p95_ms"] for w in windows["page"]),
            "api_p50": statistics.median(w["p50_ms"] for w in windows["api"]),
            "api_p95": statistics.median(w["p95_ms"] for w in windows["api"]),
            "p50_ratio": statistics.median(
                a / b for a, b in (around("page", "p50_ms", i, windows) for i in range(rounds))),
            "rps_ratio": statistics.median(
                a / b for a, b in (around("page", "req_per_s", i, loaded)
                                   for i in range(rounds))),
            "page_rps": statistics.median(w["req_per_s"] for w in loaded["page"]),
            "errors": sum(w["errors"] for w in windows["page"] + loaded["page"]),
        }
    return out


async def token(http: httpx.AsyncClient, **who: str) -> str:
    r = await http.post("/auth/dev-token", json=who)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def issue_many(stack: WebStack, n: int) -> tuple[str, str, dict[str, str]]:
    """A career-guidance budget in Pirkanmaa with ``n`` company vouchers and one voucher of the
    demo citizen Maija; (budget id, Maija's voucher id, the tokens of Maija and the admin)."""
    async with httpx.AsyncClient(base_url=stack.url, timeout=600) as http:
        admin = await token(http, user="admin-pirkanmaa")
        citizen = await token(http, user="citizen-maija")
        auth = {"Authorization": f"Bearer {admin}"}
        today = date.today()
        r = await http.post("/api/v1/budgets", headers=auth, json={
            "service_type": "career-guidance", "period_start": today.isoformat(),
            "period_end": (today + timedelta(days=365)).isoformat(),
            "funders": [{"funder": "region", "amount_cents": (n + 1) * 50_000 * 3 // 4 + 1},
                        {"funder": "837", "amount_cents": (n + 1) * 50_000 // 4 + 1}]})
        assert r.status_code == 201, r.text
        budget = r.json()["id"]
        r = await http.post("/api/v1/vouchers", headers=auth, json={
            "budget_id": budget, "value_cents": 50_000,
            "holder": {"kind": "person", "henkilotunnus": "010280-952L"}})
        assert r.status_code == 201, r.text
        voucher = r.json()["id"]
        for start in range(0, n, BULK_ROWS):
            rows = "".join(f"{valid_business_id(2_000_000 + i * 53)},50000\n"
                           for i in range(start, min(n, start + BULK_ROWS)))
            r = await http.post("/api/v1/vouchers/bulk-issuance", params={"budget_id": budget},
                                headers={**auth, "content-type": "text/csv"},
                                content="business_id,value_cents\n" + rows)
            assert r.status_code == 201 and r.json()["refused"] == 0, r.text[:500]
        return budget, voucher, {"citizen": citizen, "admin": admin}


async def settled(nats_url: str, limit: float) -> float:
    """Seconds until every consumer of every stream has nothing pending and the streams have
    not grown for 3 s (the relays and consumers have caught up), at most ``limit``."""
    began = time.monotonic()
    nc = await nats.connect(nats_url)
    try:
        js = nc.jsm()
        last, still_since = -1, time.monotonic()
        while time.monotonic() - began < limit:
            streams = await js.streams_info()
            total = sum(st.state.last_seq for st in streams)
            pending = 0
            for st in streams:
                for c in await js.consumers_info(str(st.config.name)):
                    pending += (c.num_pending or 0) + (c.num_ack_pending or 0)
            if total != last or pending:
                last, still_since = total, time.monotonic()
            elif time.monotonic() - still_since >= 3:
                break
            await asyncio.sleep(0.5)
    finally:
        await nc.close()
    return time.monotonic() - began


def voucher_pages(stack: WebStack, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    began = time.monotonic()
    asyncio.run(publish(stack, args.offerings))
    published = time.monotonic()
    budget, voucher, tokens = asyncio.run(issue_many(stack, args.vouchers))
    loaded = time.monotonic()
    waited = asyncio.run(settled(stack.services["voucher"].env["NATS_URL"], args.settle))
    print(f"loaded: {args.offerings} offerings in {published - began:.0f} s, "
          f"{args.vouchers} vouchers in {loaded - published:.0f} s; events consumed "
          f"{waited:.0f} s later")
    bearer = {k: {"Authorization": f"Bearer {t}"} for k, t in tokens.items()}
    cookie = {k: {"Cookie": f"seteli_session={t}"} for k, t in tokens.items()}
    u = stack.url
    pairs: dict[str, Pair] = {
        "compare": (f"{u}/api/v1/offerings?region=pirkanmaa&service_type=career-guidance"
                    "&limit=50", bearer["citizen"], f"{u}/vouchers/{voucher}/compare?lang=fi",
                    cookie["citizen"]),
        "budget": (f"{u}/api/v1/budgets/{budget}", bearer["admin"],
                   f"{u}/admin/budgets/{budget}?lang=fi", cookie["admin"]),
    }
    for name, (_, _, page, headers) in pairs.items():
        r = httpx.get(page, headers=headers, timeout=60)
        assert r.status_code == 200, (name, r.status_code, r.text[:300])
    # the compare page's slowest call, beside the page the same way
    pairs["ranking"] = (f"{u}/api/v1/recommendations/{voucher}", bearer["citizen"],
                        pairs["compare"][2], cookie["citizen"])
    calls_probe(u, voucher, bearer["citizen"], cookie["citizen"], args.calls)
    out = compare(pairs, args.vouchers, args.rounds, args.seconds)
    idle_probe(f"{u}/api/v1/recommendations/{voucher}", bearer["citizen"], args.idle_probes)
    return out


def calls_probe(u: str, voucher: str, bearer: dict[str, str], cookie: dict[str, str],
                n: int) -> None:
    """Each call the compare page makes, through the gateway one after another ``n`` times
    (p50 and p95), beside the page itself and the larger calls it made before: where the
    page's time goes."""
    if n <= 0:
        return
    with httpx.Client(headers=bearer, timeout=60) as http:
        v = http.get(f"{u}/api/v1/vouchers/{voucher}").json()
        ranked = http.get(f"{u}/api/v1/recommendations/{voucher}", params={"limit": 20}).json()
        ids = [i["offering_id"] for i in ranked["items"]]
        providers = sorted({i["provider_id"] for i in ranked["items"]})
        about = {"region": v["region"], "service_type": v["service_type"]}
        calls: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
            "voucher": (f"/api/v1/vouchers/{voucher}", {}, bearer),
            "ranking, a page of 20": (f"/api/v1/recommendations/{voucher}",
                                      {"limit": 20, "offset": 20}, bearer),
            "ranking, 200 (before)": (f"/api/v1/recommendations/{voucher}", {"limit": 200},
                                      bearer),
            "figures, page's providers": ("/api/v1/statistics",
                                          {**about, "provider_id": providers}, bearer),
            "figures, region (before)": ("/api/v1/statistics", about, bearer),
            "ratings, page's providers": ("/api/v1/statistics/ratings",
                                          {**about, "provider_id": providers}, bearer),
            "ratings, region (before)": ("/api/v1/statistics/ratings", about, bearer),
            "20 offerings by id": ("/api/v1/offerings", {"id": ids}, bearer),
            "the page": (f"/vouchers/{voucher}/compare", {"lang": "fi", "page": 2}, cookie),
        }
        print(f"the compare page's calls one after another ({n} each; {machine()}):")
        for name, (path, params, headers) in calls.items():
            took: list[float] = []
            size = 0
            for _ in range(n):
                began = time.perf_counter()
                r = http.get(u + path, params=params, headers=headers)
                took.append((time.perf_counter() - began) * 1000)
                assert r.status_code == 200, (name, r.status_code, r.text[:300])
                size = len(r.content)
            took.sort()
            print(f"  {name:<28} p50 {statistics.median(took):6.1f} ms  p95 "
                  f"{took[min(len(took) - 1, int(len(took) * 0.95))]:6.1f} ms  "
                  f"{size / 1000:6.1f} kB")


def idle_probe(url: str, headers: dict[str, str], n: int) -> None:
    """The ranking after 2.3 s without requests (the matching service's region index is older
    than its MAX_AGE of 2 s and is rebuilt in the request) against the three requests right
    after it (the index reused)."""
    if n <= 0:
        return
    first: list[float] = []
    after: list[float] = []
    with httpx.Client(headers=headers, timeout=60) as http:
        for _ in range(n):
            time.sleep(2.3)
            for i in range(4):
                began = time.perf_counter()
                assert http.get(url).status_code == 200
                (after if i else first).append((time.perf_counter() - began) * 1000)
    print(f"ranking after 2.3 s idle: median {statistics.median(first):.1f} ms, max "
          f"{max(first):.1f} ms; the 3 right after: median {statistics.median(after):.1f} ms "
          f"({n} tries)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--more", type=int, default=1000, help="offerings added for the "
                        "second measurement")
    parser.add_argument("--part", choices=["search", "vouchers"], default="search")
    parser.add_argument("--offerings", type=int, default=5000)
    parser.add_argument("--vouchers", type=int, default=100_000)
    parser.add_argument("--idle-probes", type=int, default=15,
                        help="--part vouchers: ranking requests after 2.3 s idle (0: none)")
    parser.add_argument("--calls", type=int, default=0,
                        help="--part vouchers: time each call of the compare page this many "
                        "times first (0: not)")
    parser.add_argument("--settle", type=float, default=900.0,
                        help="at most this many seconds to wait for the events of the loading")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp, web_stack(
            Path(tmp), GATEWAY_UPSTREAM_TIMEOUT_SECONDS="120") as stack:
        if args.part == "vouchers":
            results.append((f"{args.offerings} off.", voucher_pages(stack, args)))
        else:
            results.append(("demo data", measure(stack, args.rounds, args.seconds)))
            asyncio.run(publish(stack, args.more))
            results.append((f"+{args.more} offerings",
                            measure(stack, args.rounds, args.seconds)))
    print(f"Web pages vs the API calls they are built from ({machine()}; median of "
          f"{args.rounds} rounds of {args.seconds:g} s windows)")
    print(f"{'data':<18} {'page':<9} {'total':>6} {'API p50':>8} {'page p50':>9} "
          f"{'API p95':>8} {'page p95':>9} {'p50 x':>6} {'page rps':>9} {'rps x':>6} err")
    for label, figures in results:
        for name, f in figures.items():
            print(f"{label:<18} {name:<9} {f['total']:>6} {f['api_p50']:>8.1f} "
                  f"{f['page_p50']:>9.1f} {f['api_p95']:>8.1f} {f['page_p95']:>9.1f} "
                  f"{f['p50_ratio']:>6.2f} {f['page_rps']:>9.0f} {f['rps_ratio']:>6.2f} "
                  f"{f['errors']}")


if __name__ == "__main__":
    main()
