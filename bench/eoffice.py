"""Benchmark the eOffice on a seeded agency with a million documents (issue 7).

    .venv/bin/python bench/eoffice.py [--documents 1000000] [--seconds 15] [--warmup 3]
        [--connections 8] [--workers 2] [--threads 8] [--clerks 16] [--numberings 25]
        [--pg postgres://postgres@127.0.0.1:5432] [--pages healthz register search]
        [--keep DIR [--seed-only]]

PostgreSQL only (the targets are PostgreSQL's). A fresh deployment in a temporary
``$CONGVU_HOME`` (``congvu init --profile gia-lai``) on a new database, dropped
afterwards. One agency (Sở Thông tin và Truyền thông, five departments, its clerk and
director, ``--clerks`` numbering clerks) is filled through the Django ORM
(``bulk_create``) with ``--documents`` documents over five years: 60 % incoming
(registered, numbered per year, one lead department each, realistic Vietnamese
summaries from a dozen issuers, 1 % classified), 40 % outgoing (issued, numbered per
year in the general series); one document in ten has a PDF's full text (1–2 kB of
Vietnamese administrative prose, folded into ``body_key`` exactly as the upload hook
does). The registers' counters are set to the seeded numbers. Then ``VACUUM ANALYZE``.

The real ``congvu serve --workers 2 --threads 8 --no-worker`` answers ``wrk`` on
loopback, signed in as the agency's clerk (who reads everything: the largest result
sets), one page at a time, each fetched and checked first (status 200 and content):

- ``healthz``: ``/healthz``: the floor of any request, measured in the same run;
- ``register``: ``/console/eoffice/registers/?kind=…&year=…&after=…``: 200 pages of the
  incoming and outgoing registers (50 rows each, keyset on the number), some filtered
  by type or urgency; target p95 < 150 ms;
- ``search``: ``/console/eoffice/search/?q=…``: 200 queries without tone marks: common
  subjects (tens of thousands of matches), issuer and subject together, numbers and
  symbols, words only in the PDFs' text, a word being typed, some with a year or kind;
  target p95 < 200 ms;
- ``search-head``: the same searches as the head of the first department, who reads only
  the documents assigned to it (a fifth of the incoming): the narrow reader's plan
  (not in a deployment seeded before this page existed).

Last, numbering throughput: ``--clerks`` threads, each its own database connection and
clerk, number ``--numberings`` approved documents each through
``actions.do_number_outgoing`` at once (the register's row lock serialises them);
numbers per second, then the check that the numbers taken are exactly the next
``clerks × numberings`` of the series: no gap, no duplicate.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The load driver and the deployment helpers are the console benchmark's.
from console_pages import _cookie_name, _wait, free_port, run, wrk

HERE = Path(__file__).resolve().parent
CONGVU = str(Path(sys.executable).with_name("congvu"))
TARGETS = {"register": 150.0, "search": 200.0, "search-head": 200.0}
PAGES = ("healthz", "register", "search", "search-head")
YEARS = 5


ISSUERS = ("UBND tỉnh Gia Lai", "Văn phòng UBND tỉnh", "Sở Tài chính", "Sở Nội vụ",
           "Sở Kế hoạch và Đầu tư", "Bộ Thông tin và Truyền thông", "Công an tỉnh",
           "Sở Y tế", "Sở Giáo dục và Đào tạo", "UBND huyện Chư Păh", "UBND thành phố Pleiku",
           "Ban Quản lý Khu kinh tế tỉnh")
SYMBOLS = ("UBND-VX", "UBND-KT", "VP-KGVX", "STC-QLNS", "SNV-CCVC", "SKHĐT-TH",
           "BTTTT-CĐSQG", "CAT-PA05", "SYT-NVY", "SGDĐT-VP", "UBND", "BQLKKT-VP")
ACTIONS = ("triển khai", "hướng dẫn thực hiện", "báo cáo kết quả", "góp ý dự thảo về",
           "tổ chức hội nghị về", "phê duyệt kế hoạch", "kiểm tra việc thực hiện",
           "đôn đốc thực hiện", "tăng cường công tác", "mời họp ngày 15/3 về")
SUBJECTS = ("chuyển đổi số", "cải cách hành chính", "an toàn thông tin mạng",
            "chữ ký số chuyên dùng", "dịch vụ công trực tuyến", "quyết toán ngân sách",
            "phòng chống thiên tai", "tuyển dụng công chức", "đầu tư công trung hạn",
            "chính quyền điện tử", "thi đua khen thưởng", "phòng cháy chữa cháy",
            "bảo vệ bí mật nhà nước", "ứng dụng trí tuệ nhân tạo", "hạ tầng viễn thông",
            "bưu chính công ích", "báo chí và xuất bản", "đề án 06 về dữ liệu dân cư")
PLACES = ("trên địa bàn tỉnh", "giai đoạn 2026-2030", "năm {y}", "quý {q} năm {y}",
          "tháng {m}/{y}", "tại các huyện, thị xã, thành phố", "")
TYPES = (("cong-van", 40), ("quyet-dinh", 12), ("ke-hoach", 10), ("thong-bao", 10),
         ("bao-cao", 10), ("giay-moi", 8), ("to-trinh", 5), ("huong-dan", 5))
BODY = ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015.",
        "Kinh phí thực hiện từ nguồn ngân sách nhà nước được giao trong dự toán hằng năm.",
        "Các cơ quan, đơn vị thực hiện chế độ báo cáo định kỳ trước ngày 20 hằng tháng.",
        "Giao Sở Thông tin và Truyền thông chủ trì, phối hợp với các sở, ngành liên quan.",
        "Tổ chức kiểm tra, giám sát việc thực hiện và xử lý nghiêm các trường hợp vi phạm.",
        "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, kịp thời báo cáo UBND tỉnh.",
        "Bảo đảm an toàn hệ thống thông tin theo cấp độ và sao lưu dữ liệu định kỳ.",
        "Nâng cao chất lượng phục vụ người dân, doanh nghiệp trong giải quyết thủ tục.",
        "Quyết định này có hiệu lực kể từ ngày ký.",
        "Chánh Văn phòng, Giám đốc các sở, Chủ tịch UBND các huyện chịu trách nhiệm thi hành.")
BODY_ONLY_QUERIES = ("kinh phi thuc hien", "che do bao cao dinh ky", "sao luu du lieu",
                     "xu ly nghiem cac truong hop vi pham", "co hieu luc ke tu ngay ky",
                     "luat to chuc chinh quyen dia phuong", "kho khan vuong mac")


# --- the seeding child (runs with the deployment's environment) ------------------------


def _summary(rng: random.Random, year: int) -> tuple[str, str]:
    who = rng.randrange(len(ISSUERS))
    place = rng.choice(PLACES).format(y=year, q=rng.randint(1, 4), m=rng.randint(1, 12))
    text = f"{ISSUERS[who]} {rng.choice(ACTIONS)} {rng.choice(SUBJECTS)} {place}".strip()
    return text, ISSUERS[who]


def _body(rng: random.Random) -> str:
    return " ".join(rng.sample(BODY, rng.randint(5, len(BODY)))) * rng.randint(1, 2)


def seed_child(cfg: dict[str, Any]) -> dict[str, Any]:
    import datetime as dt

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django

    django.setup()
    sys.path.insert(0, str(HERE))
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone
    from names import people

    from congvu import deployment
    from congvu.accounts.actions import do_create_account
    from congvu.actors import Actor
    from congvu.directory.actions import do_add_agency
    from congvu.eoffice import actions, rules
    from congvu.eoffice.fulltext import key
    from congvu.eoffice.models import (
        Assignment,
        IncomingDocument,
        OfficeRole,
        OutgoingDocument,
        Register,
    )
    from congvu.sso.actions import do_start_session
    from congvu.sso.middleware import SID

    profile = deployment.deployment_profile()
    op = Actor(kind="operator", label="cli:bench")
    rng = random.Random(2026)
    now = timezone.now()
    this_year = timezone.localtime(now).year
    years = list(range(this_year - YEARS + 1, this_year + 1))
    started = time.perf_counter()
    sotttt = do_add_agency(actor=op, profile=profile, abbr="sotttt",
                           name="Sở Thông tin và Truyền thông", kind=None, parent=None,
                           now=now)
    departments = [do_add_agency(actor=op, profile=profile, abbr=abbr, name=name,
                                 kind="department", parent="sotttt", now=now)
                   for abbr, name in (("vp", "Văn phòng Sở"), ("cntt", "Phòng Công nghệ thông tin"),
                                      ("bcxb", "Phòng Báo chí - Xuất bản"),
                                      ("bcvt", "Phòng Bưu chính - Viễn thông"),
                                      ("ttra", "Thanh tra Sở"))]
    actions.do_set_agency_symbol(actor=op, agency_id=sotttt.pk, symbol="STTTT", now=now)
    actions.do_set_agency_symbol(actor=op, agency_id=departments[0].pk, symbol="VP", now=now)
    names = [p.full_name for p in people(3 + cfg["clerks"], seed=7)]

    def person(name: str, role: str, department: Any = None) -> Any:
        acct, _otp = do_create_account(actor=op, profile=profile, agency_ref="sotttt",
                                       full_name=name, now=now)
        actions.do_grant_office_role(actor=op, account_id=acct.pk, agency_id=sotttt.pk,
                                     role=role, now=now,
                                     department_id=department.pk if department else None)
        return acct

    clerk = person(names[0], OfficeRole.CLERK, departments[0])
    director = person(names[1], OfficeRole.DIRECTOR)
    numbering_clerks = [person(n, OfficeRole.CLERK, departments[0]) for n in names[2:-1]]
    head = person(names[-1], OfficeRole.DEPARTMENT_HEAD, departments[0])
    signers = [p.full_name for p in people(40, seed=11)]

    n_in = cfg["documents"] * 6 // 10
    n_out = cfg["documents"] - n_in
    per_year_in = -(-n_in // len(years))
    per_year_out = -(-n_out // len(years))
    types = [t for t, _w in TYPES]
    weights = [w for _t, w in TYPES]
    batch = 5000
    last: dict[tuple[int, str], int] = {}
    with transaction.atomic():
        made = 0
        while made < n_in:
            rows = []
            for i in range(made, min(n_in, made + batch)):
                year = years[i // per_year_in]
                number = i % per_year_in + 1
                start = dt.datetime(year, 1, 2, 8, tzinfo=dt.UTC)
                when = start + dt.timedelta(minutes=number * 525_000 // per_year_in)
                when = min(when, now - dt.timedelta(minutes=n_in - i))
                summary, issuer = _summary(rng, year)
                kind = rng.choices(types, weights)[0]
                symbol = f"{rng.randint(1, 3000)}/{rules.doc_type(kind).abbr or 'CV'}-" \
                         f"{SYMBOLS[ISSUERS.index(issuer)]}"
                signer = rng.choice(signers)
                body = _body(rng) if i % 10 == 3 else ""
                rows.append(IncomingDocument(
                    agency=sotttt, status="done" if year < this_year else "assigned",
                    year=year, number=number, received_at=when,
                    registration_due_at=when + dt.timedelta(days=1), registered_at=when,
                    registered_by=clerk, registered_by_label=f"self:{clerk.address}",
                    issuer=issuer, issuer_key=rules.issuer_key(issuer)[:255],
                    number_symbol=symbol, number_symbol_key=rules.number_symbol_key(symbol),
                    document_date=when.date(), doc_type=kind, summary=summary, signer=signer,
                    urgency="khan" if i % 20 == 0 else "normal",
                    confidentiality="mat" if i % 100 == 7 else "none", page_count=2,
                    search_text=rules.search_text(summary, issuer, symbol, signer),
                    body_text=body, body_key=key(body)))
                last[(year, "incoming")] = number
            IncomingDocument.objects.bulk_create(rows)
            made += len(rows)
        ids = IncomingDocument.objects.values_list("id", "received_at")
        Assignment.objects.bulk_create(
            (Assignment(document_id=pk, kind="lead", to_department=departments[pk % 5],
                        from_account=director, from_label=f"self:{director.address}",
                        status="pending", assigned_at=at) for pk, at in ids.iterator()),
            batch_size=batch)
        made = 0
        while made < n_out:
            out_rows: list[OutgoingDocument] = []
            for i in range(made, min(n_out, made + batch)):
                year = years[i // per_year_out]
                number = i % per_year_out + 1
                start = dt.datetime(year, 1, 2, 8, tzinfo=dt.UTC)
                when = start + dt.timedelta(minutes=number * 525_000 // per_year_out)
                when = min(when, now - dt.timedelta(minutes=n_out - i))
                summary, _issuer = _summary(rng, year)
                summary = summary.replace(_issuer, "Sở Thông tin và Truyền thông", 1)
                kind = rng.choices(types, weights)[0]
                text = rules.format_number(number, kind, "STTTT", "VP")
                signer = rng.choice(signers)
                body = _body(rng) if i % 10 == 5 else ""
                out_rows.append(OutgoingDocument(
                    agency=sotttt, department=departments[i % 5], drafter=clerk,
                    drafter_label=f"self:{clerk.address}", status="issued", doc_type=kind,
                    summary=summary, signer=signer, created_at=when, approved_at=when,
                    series="general", year=year, number=number, number_text=text,
                    document_date=when.date(), numbered_at=when, issued_at=when,
                    search_text=rules.search_text(summary, "", text, signer),
                    body_text=body, body_key=key(body)))
                last[(year, "general")] = number
            OutgoingDocument.objects.bulk_create(out_rows)
            made += len(out_rows)
        Register.objects.bulk_create(Register(agency=sotttt, year=y, series=s, last_number=n)
                                     for (y, s), n in last.items())
        approved = OutgoingDocument.objects.bulk_create(
            OutgoingDocument(agency=sotttt, department=departments[0], drafter=clerk,
                             drafter_label="bench", status="approved", doc_type="cong-van",
                             summary=f"Công văn số thứ tự {k} để cấp số", created_at=now,
                             approved_at=now, search_text="")
            for k in range(cfg["clerks"] * cfg["numberings"]))
    seeded_s = time.perf_counter() - started

    def cookie_for(account: Any) -> str:
        client = Client()
        client.force_login(account)
        sso = do_start_session(account=account, session_key=client.session.session_key or "",
                               now=now)
        session = client.session
        session[SID] = sso.sid
        session.save()
        return f"{_cookie_name()}={session.session_key}"

    from congvu.text import fold

    queries: list[str] = []
    for k in range(200):
        pick = k % 8
        if pick == 0:
            queries.append(f"q={fold(rng.choice(SUBJECTS))}")
        elif pick == 1:
            queries.append(f"q={fold(rng.choice(ISSUERS))} {fold(rng.choice(SUBJECTS)).split()[0]}")
        elif pick == 2:
            doc = IncomingDocument.objects.filter(pk=rng.randint(1, n_in)).values_list(
                "number_symbol", flat=True).first() or "12/UBND"
            queries.append(f"q={doc}")
        elif pick == 3:
            queries.append(f"q={rng.choice(BODY_ONLY_QUERIES)}")
        elif pick == 4:
            words = fold(rng.choice(SUBJECTS)).split()
            queries.append(f"q={' '.join([*words[:-1], words[-1][:3]])}")  # still typing
        elif pick == 5:
            queries.append(f"q={fold(rng.choice(SUBJECTS))}&year={rng.choice(years)}")
        elif pick == 6:
            queries.append(f"q={rng.choice(SUBJECTS)}&kind=outgoing")  # with tone marks
        else:
            queries.append(f"q={fold(rng.choice(ACTIONS))} {fold(rng.choice(SUBJECTS))}")
    registers: list[str] = []
    for k in range(200):
        year = rng.choice(years)
        kind = "incoming" if k % 3 else "outgoing"
        top = last.get((year, "incoming" if kind == "incoming" else "general"), 1)
        extra = ("&type=ke-hoach" if k % 10 == 1 else "&urgency=khan" if k % 10 == 2
                 else "&q=chuyen doi so" if k % 10 == 3 else "")
        registers.append(f"kind={kind}&year={year}&after={rng.randrange(max(1, top - 50))}"
                         f"{extra}")
    return {"cookie": cookie_for(clerk), "head_cookie": cookie_for(head), "queries": queries,
            "registers": registers, "seeded_s": round(seeded_s, 1),
            "approved": [d.pk for d in approved],
            "clerks": [a.pk for a in numbering_clerks], "agency": sotttt.pk,
            "year": this_year, "first": last.get((this_year, "general"), 0) + 1}


def number_child(cfg: dict[str, Any]) -> dict[str, Any]:
    """``clerks`` threads number their share of the approved documents at once."""
    import threading

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from congvu import deployment
    from congvu.accounts.models import Account
    from congvu.accounts.roles import actor_for
    from congvu.eoffice import actions
    from congvu.eoffice.models import OutgoingDocument, Register

    profile = deployment.deployment_profile()
    clerks = [actor_for(a) for a in Account.objects.filter(pk__in=cfg["clerks"]).order_by("pk")]
    # Fresh approved drafts like the seeded ones, so a kept deployment numbers again.
    model = OutgoingDocument.objects.get(pk=cfg["approved"][0])
    now = timezone.now()
    approved = [d.pk for d in OutgoingDocument.objects.bulk_create(
        OutgoingDocument(agency_id=model.agency_id, department_id=model.department_id,
                         drafter_id=model.drafter_id, drafter_label="bench", status="approved",
                         doc_type="cong-van", summary=f"Công văn số thứ tự {k} để cấp số",
                         created_at=now, approved_at=now, search_text="")
        for k in range(len(cfg["approved"])))]
    from zoneinfo import ZoneInfo

    year = now.astimezone(ZoneInfo(profile.timezone)).year
    before = Register.objects.filter(agency_id=cfg["agency"], year=year,
                                     series="general").values_list("last_number", flat=True)
    first = (before.first() or 0) + 1
    shares = [approved[i::len(clerks)] for i in range(len(clerks))]
    errors: list[str] = []
    gate = threading.Barrier(len(clerks))

    def work(actor: Any, ids: list[int]) -> None:
        try:
            gate.wait()
            for pk in ids:
                actions.do_number_outgoing(actor=actor, profile=profile, outgoing_id=pk,
                                           now=timezone.now())
        except Exception as exc:  # reported, fails the run
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(a, s)) for a, s in zip(clerks, shares,
                                                                           strict=True)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    numbers = sorted(n or 0 for n in OutgoingDocument.objects.filter(
        pk__in=approved).values_list("number", flat=True))
    total = len(approved)
    expected = list(range(first, first + total))
    counter = Register.objects.get(agency_id=cfg["agency"], year=year,
                                   series="general").last_number
    return {"seconds": seconds, "numbers": total, "per_second": total / seconds,
            "errors": errors, "gapless": numbers == expected,
            "counter_ok": counter == first + total - 1}


# --- the driver --------------------------------------------------------------------------


def child(env: dict[str, str], flag: str, cfg: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, flag], env=env, input=json.dumps(cfg),
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def paths_for(page: str, data: dict[str, Any]) -> list[str]:
    from urllib.parse import quote

    def encoded(query: str) -> str:
        return "&".join(f"{k}={quote(v)}" for k, v in (p.split("=", 1)
                                                       for p in query.split("&")))

    if page == "healthz":
        return ["/healthz"]
    if page == "register":
        return [f"/console/eoffice/registers/?{encoded(q)}" for q in data["registers"]]
    return [f"/console/eoffice/search/?{encoded(q)}" for q in data["queries"]]


def check(base: str, page: str, paths: list[str], cookie: str) -> None:
    """Each page answers 200 with real content before it is timed."""
    import requests

    name, value = cookie.split("=", 1)
    empty = 0
    for path in paths[:: max(1, len(paths) // 20)]:
        resp = requests.get(base + path, cookies={name: value}, allow_redirects=False,
                            timeout=60)
        if resp.status_code != 200:
            raise SystemExit(f"{page}: {path} answered {resp.status_code} "
                             f"{resp.headers.get('Location', '')}")
        marker = '<th scope="row">' if page == "register" else 'class="hit"'
        empty += marker not in resp.text
    if empty > (10 if page == "search-head" else 2):  # a head reads a fifth of them
        raise SystemExit(f"{page}: {empty} of the checked pages have no rows")


def bench(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Seed (unless ``--keep`` holds a seeded deployment), time the pages, number."""
    keep = Path(args.keep) if args.keep else None
    tmp = keep or Path(tempfile.mkdtemp(prefix="congvu-bench-eoffice-"))
    tmp.mkdir(parents=True, exist_ok=True)
    saved = tmp / "seed.json"
    dbname = (saved.exists() and json.loads(saved.read_text())["dbname"]) or \
        f"congvu_bench_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CONGVU_HOME": str(tmp / "home"),
           "DATABASE_URL": f"{args.pg}/{dbname}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = None
    try:
        if saved.exists():
            data = json.loads(saved.read_text())
            print(f"reusing the deployment seeded in {tmp}", flush=True)
        else:
            run(env, CONGVU, "init", "--profile", "gia-lai", "--json")
            started = time.perf_counter()
            data = child(env, "--seed-child", {"documents": args.documents,
                                               "clerks": args.clerks,
                                               "numberings": args.numberings})
            print(f"seeded {args.documents} documents in "
                  f"{time.perf_counter() - started:.0f} s (ORM {data['seeded_s']} s)",
                  flush=True)
            import psycopg

            with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            if keep:
                saved.write_text(json.dumps({**data, "dbname": dbname}), encoding="utf-8")
        if args.seed_only:
            return None
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([CONGVU, "serve", "--bind", f"127.0.0.1:{port}",
                                   "--workers", str(args.workers), "--threads",
                                   str(args.threads), "--no-worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(base)
        results: dict[str, Any] = {}
        for page in args.pages:
            paths = paths_for(page, data)
            cookie = data.get("head_cookie", "") if page == "search-head" else data["cookie"]
            if not cookie:
                print(f"{page}: this deployment was seeded without a head of department",
                      flush=True)
                continue
            if page != "healthz":
                check(base, page, paths, cookie)
            wrk(base, paths, cookie, args.warmup, args.connections, tmp)
            res = wrk(base, paths, cookie, args.seconds, args.connections, tmp)
            if res["errors"] or res["status_errors"]:
                raise SystemExit(f"{page}: {res['errors']} socket errors, "
                                 f"{res['status_errors']} error answers")
            results[page] = res
            print(f"{page:9s} {res['rps']:8.1f} req/s  p50 {res['p50']:6.1f} ms  "
                  f"p95 {res['p95']:6.1f} ms  p99 {res['p99']:6.1f} ms", flush=True)
        server.terminate()
        server.wait(timeout=20)
        server = None
        numbering = child(env, "--number-child", {
            "clerks": data["clerks"], "approved": data["approved"], "agency": data["agency"],
            "year": data["year"], "first": data["first"]})
        print(f"numbering: {numbering['numbers']} numbers by {args.clerks} clerks at once in "
              f"{numbering['seconds']:.2f} s: {numbering['per_second']:.1f} numbers/s; "
              f"gapless and unique: {numbering['gapless']}; counter: {numbering['counter_ok']}"
              + (f"; errors: {numbering['errors'][:3]}" if numbering["errors"] else ""),
              flush=True)
        return results, numbering
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if keep is None:
            import psycopg

            with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    if len(sys.argv) == 2 and sys.argv[1] in ("--seed-child", "--number-child"):
        work = seed_child if sys.argv[1] == "--seed-child" else number_child
        print(json.dumps(work(json.load(sys.stdin))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--documents", type=int, default=1_000_000)
    ap.add_argument("--clerks", type=int, default=16)
    ap.add_argument("--numberings", type=int, default=25)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    ap.add_argument("--keep", metavar="DIR",
                    help="keep the deployment and its database in DIR (not dropped), and "
                         "reuse them when DIR holds one: seed once, measure later")
    ap.add_argument("--seed-only", action="store_true",
                    help="stop after seeding (with --keep: seed now, measure on a quiet "
                         "machine later)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/setup installs it)")
    print(f"eoffice: {args.documents} documents on PostgreSQL; wrk -c {args.connections} for "
          f"{args.seconds:.0f} s after {args.warmup:.0f} s; serve --workers {args.workers} "
          f"--threads {args.threads}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}",
          flush=True)
    outcome = bench(args)
    if outcome is None:
        print("seeded; measure with the same --keep")
        return 0
    results, numbering = outcome
    missed = []
    floor = results.get("healthz", {}).get("p95")
    for page, res in results.items():
        if page == "healthz":
            continue
        ratio = f" ({res['p95'] / floor:.1f}× /healthz)" if floor else ""
        verdict = "ok" if res["p95"] < TARGETS[page] else "MISSED"
        print(f"{page}: p95 {res['p95']:.1f} ms{ratio} — target < {TARGETS[page]:.0f} ms: "
              f"{verdict}")
        if verdict != "ok":
            missed.append(page)
    if not (numbering["gapless"] and numbering["counter_ok"]) or numbering["errors"]:
        missed.append("numbering (gap, duplicate or error)")
    if missed:
        print("missed: " + ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
