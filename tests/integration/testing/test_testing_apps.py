"""The pytest plugin on user-style test files against the real server, in one pytest run.

One subprocess run (a fresh interpreter, as Django's settings can be configured once per
process) of test files written as an application's tests would be: psycopg sync and async,
SQLAlchemy and Django apps with an N+1 loop and a query budget, a failing plan check that
carries a HypoPG-proven index, and the JSON / JUnit report of it all.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("django")

CONFTEST = """
import os
import pytest
import psycopg

@pytest.fixture
def dsn():
    return os.environ["PLANALYZER_DSN"]

def list_orders(conn):
    return conn.execute("SELECT id, customer_id FROM orders ORDER BY id LIMIT 12").fetchall()
"""

PSYCOPG_TESTS = """
import asyncio
import psycopg
import pytest
from planalyzer.testing import capture_queries

def customer_names(conn):
    names = []
    for order_id, customer_id in conn.execute(
        "SELECT id, customer_id FROM orders ORDER BY id LIMIT 12"
    ).fetchall():
        names.append(
            conn.execute("SELECT name FROM customers WHERE id = %s", [customer_id]).fetchone()[0]
        )
    return names

def test_psycopg_n_plus_one(planalyzer_conn):
    with capture_queries(planalyzer_conn) as captured:
        customer_names(planalyzer_conn)
    assert captured.count == 13
    captured.assert_no_n_plus_one(threshold=5)

def test_psycopg_budget(planalyzer_conn):
    with capture_queries(planalyzer_conn) as captured:
        customer_names(planalyzer_conn)
    captured.assert_max_queries(5)

def test_async_capture(dsn):
    async def main():
        async with await psycopg.AsyncConnection.connect(dsn) as aconn:
            async with capture_queries(aconn) as captured:
                for customer_id in (1, 2, 3):
                    cur = await aconn.execute(
                        "SELECT count(*) FROM customers WHERE id = %s", [customer_id]
                    )
                    await cur.fetchone()
                async with aconn.cursor() as cur:
                    await cur.execute("SELECT name FROM customers WHERE id = %s", [4])
        return captured

    captured = asyncio.run(main())
    assert captured.count == 4
    assert len({s.fingerprint for s in captured}) == 2
    assert {s.call_site.split(":")[0] for s in captured} == {"test_psycopg_app.py"}
    assert captured.statements[0].params == [1]
    with pytest.raises(TypeError, match="AsyncConnection cannot run the plan checks"):
        captured.assert_plans()
    with psycopg.connect(dsn) as conn:
        [by_count, by_name] = captured.assert_plans(conn=conn, max_findings=None)
    assert by_count.count == 3

@pytest.mark.planalyzer(max_queries=3)
def test_marker_budget_counts_captures(planalyzer_conn):
    with capture_queries(planalyzer_conn):
        customer_names(planalyzer_conn)

def test_proven_fix_with_statistics_advice(planalyzer_conn):
    import planalyzer as pa
    from planalyzer.testing import assert_plan
    plan = pa.explain(
        planalyzer_conn, "SELECT * FROM customers WHERE country = %s AND city = %s", ["JP", "Tokyo"]
    )
    assert_plan(plan, conn=planalyzer_conn).no_seq_scan(on="customers")

def test_proven_fix(planalyzer_conn):
    with capture_queries(planalyzer_conn) as captured:
        planalyzer_conn.execute("SELECT * FROM orders WHERE customer_id = %s", [42]).fetchall()
    captured.assert_plans(no_seq_scan=True, max_findings=None)
"""

SQLALCHEMY_TESTS = """
import psycopg
import pytest
from sqlalchemy import ForeignKey, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from planalyzer.testing import capture_queries

class Base(DeclarativeBase):
    pass

class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]

class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship()

@pytest.fixture
def engine(dsn):
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    yield engine
    engine.dispose()

def customer_names(session):
    orders = session.scalars(select(Order).order_by(Order.id).limit(12)).all()
    return [order.customer.name for order in orders]

def test_sqlalchemy_n_plus_one(engine):
    with capture_queries(engine) as captured, Session(engine) as session:
        customer_names(session)
    captured.assert_no_n_plus_one(threshold=5)

@pytest.mark.planalyzer(max_queries=4)
def test_sqlalchemy_budget_by_marker(engine):
    with Session(engine) as session:
        customer_names(session)

def test_sqlalchemy_checked_plans_pass(engine):
    with capture_queries(engine) as captured, Session(engine) as session:
        session.get(Order, 7)
    [checked] = captured.assert_plans(max_findings=None)
    assert checked.plan.root.index_name == "orders_pkey"
"""

DJANGO_TESTS = """
import os
import django
import pytest
from django.conf import settings
from psycopg.conninfo import conninfo_to_dict

info = conninfo_to_dict(os.environ["PLANALYZER_DSN"])
settings.configure(
    DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": info["dbname"],
        "USER": info.get("user", ""), "HOST": info["host"], "PORT": info["port"],
    }},
    INSTALLED_APPS=[], USE_TZ=True,
)
django.setup()

from django.db import connection, models
from planalyzer.testing import capture_queries

class Customer(models.Model):
    name = models.TextField()
    class Meta:
        app_label = "shop"
        db_table = "customers"
        managed = False

class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.DO_NOTHING)
    class Meta:
        app_label = "shop"
        db_table = "orders"
        managed = False

def customer_names():
    return [order.customer.name for order in Order.objects.order_by("id")[:12]]

def test_django_n_plus_one():
    with capture_queries(connection) as captured:
        customer_names()
    captured.assert_no_n_plus_one(threshold=5)

@pytest.mark.planalyzer(max_queries=2)
def test_django_budget_by_marker():
    customer_names()

def test_django_select_related_is_one_query():
    with capture_queries(connection) as captured:
        [o.customer.name for o in Order.objects.select_related("customer").order_by("id")[:12]]
    captured.assert_max_queries(1).assert_no_n_plus_one(threshold=2)
"""


def test_user_apps_against_the_server(pytester, demo_dsn, monkeypatch, tmp_path):
    monkeypatch.setenv("PLANALYZER_DSN", demo_dsn)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_psycopg_app=PSYCOPG_TESTS,
        test_sqlalchemy_app=SQLALCHEMY_TESTS,
        test_django_app=DJANGO_TESTS,
    )
    report = tmp_path / "planalyzer-report.json"
    junit = tmp_path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "-p",
        "planalyzer",
        "-p",
        "no:cacheprovider",
        "--planalyzer-prove-fixes=true",
        f"--planalyzer-report={report}",
        f"--junitxml={junit}",
    )
    out = result.stdout.str()
    result.assert_outcomes(passed=3, failed=9)
    failed = {line.split()[1] for line in out.splitlines() if line.startswith("FAILED ")}
    assert failed == {
        "test_psycopg_app.py::test_psycopg_n_plus_one",
        "test_psycopg_app.py::test_psycopg_budget",
        "test_psycopg_app.py::test_marker_budget_counts_captures",
        "test_psycopg_app.py::test_proven_fix",
        "test_psycopg_app.py::test_proven_fix_with_statistics_advice",
        "test_sqlalchemy_app.py::test_sqlalchemy_n_plus_one",
        "test_sqlalchemy_app.py::test_sqlalchemy_budget_by_marker",
        "test_django_app.py::test_django_n_plus_one",
        "test_django_app.py::test_django_budget_by_marker",
    }

    # N+1 from psycopg: the call site is the loop's line in the user's module, with the count
    assert "N+1 queries: 1 statement ran 5 times or more from one call site (13 statements" in out
    assert "[1] 12 × SELECT name FROM customers WHERE id = %s" in out
    assert "call site: test_psycopg_app.py:12 (in customer_names)" in out
    assert "fetch them in one statement: a JOIN, or WHERE id = ANY(%s)" in out
    assert "13 statements were sent, the budget is 5 (8 over)" in out
    assert "@pytest.mark.planalyzer(max_queries=3): 13 statements were sent" in out

    # SQLAlchemy: the lazy load's call site is the attribute access in the app's loop
    assert "call site: test_sqlalchemy_app.py:29 (in customer_names)" in out
    assert "selectinload() / joinedload()" in out
    assert "@pytest.mark.planalyzer(max_queries=4): 13 statements were sent" in out

    # Django: the same through execute_wrapper
    assert "call site: test_django_app.py:35 (in customer_names)" in out
    assert "select_related()" in out
    assert "@pytest.mark.planalyzer(max_queries=2): 13 statements were sent" in out

    # the proven fix: a CREATE INDEX the advisor proved with HypoPG, with both costs
    assert "proven fix (planalyzer advisor, HypoPG; nothing was created):" in out
    assert "CREATE INDEX CONCURRENTLY" in out
    proof = next(line for line in out.splitlines() if "CREATE INDEX CONCURRENTLY" in line)
    assert "orders" in proof
    assert "customer_id" in proof
    assert "planner cost" in out
    assert "× cheaper" in out

    # where the planner misestimates the rows, the statistics advice comes with the proof
    stats = out[out.index("test_proven_fix_with_statistics_advice") :]
    assert "  statistics: " in stats
    assert "CREATE STATISTICS" in stats

    # the JSON report: every test that sent or checked statements, with plans and verdicts
    document = json.loads(report.read_text())
    tests = {t["test"].split("::")[1]: t for t in document["tests"]}
    assert document["planalyzer_report"] == 1
    n_plus_one = tests["test_psycopg_n_plus_one"]
    assert n_plus_one["outcome"] == "failed"
    assert n_plus_one["statements_captured"] == 13
    by_customer = next(c for c in n_plus_one["captured"] if c["count"] == 12)
    assert by_customer["call_sites"] == {"test_psycopg_app.py:12": 12}
    proven = tests["test_proven_fix"]["checked"][0]
    assert proven["verdict"] == "failed"
    assert proven["plan"][0]["Plan"]["Node Type"] in ("Seq Scan", "Gather")
    assert any(f["rule"] == "seq-scan" for f in proven["findings"])
    passed = tests["test_sqlalchemy_checked_plans_pass"]
    assert passed["outcome"] == "passed"
    assert passed["checked"][0]["verdict"] == "passed"
    assert passed["checked"][0]["shape"] == "Index Scan using orders_pkey on orders"
    assert tests["test_django_budget_by_marker"]["after_test_failure"].startswith(
        "@pytest.mark.planalyzer(max_queries=2)"
    )

    # JUnit properties for the same tests
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    props = {
        p.get("name"): p.get("value") for p in cases["test_psycopg_n_plus_one"].iter("property")
    }
    assert props["planalyzer_statements"] == "13"
    assert props["planalyzer_distinct_queries"] == "2"
