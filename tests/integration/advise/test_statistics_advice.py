"""Statistics advice: proven inside a rolled-back transaction, nothing left behind."""

from __future__ import annotations

import pytest

from planalyzer.advisor.advise import advise
from planalyzer.live.explain import explain

pytestmark = pytest.mark.hypopg

# zip determines city: the planner multiplies 1/100 by 1/1,000 and expects 2 rows of 200.
CORRELATED = "SELECT id, amount FROM traps.tickets WHERE city = 5 AND zip = 53"
EXT_STATS = "SELECT count(*) FROM pg_statistic_ext WHERE stxrelid = 'traps.tickets'::regclass"


def scan_rows(conn, sql):
    plan = explain(conn, sql, analyze=False)
    return next(n.plan_rows for n in plan.nodes() if n.relation_name == "tickets")


def test_correlated_columns_get_proven_extended_statistics_and_nothing_remains(tconn):
    before = scan_rows(tconn, CORRELATED)
    advice = advise(tconn, [CORRELATED])
    [fix] = [s for s in advice.statistics if s.kind == "create-statistics"]
    assert fix.columns == ("city", "zip")
    assert fix.estimate_before == before
    assert fix.actual_rows > 20 * fix.estimate_before  # ~200 real rows against ~2
    assert fix.estimate_after > 10 * fix.estimate_before  # the proof fixed the estimate
    assert fix.evidence == "sampled"
    # nothing left behind: no statistics object, the same estimate as before
    assert tconn.execute(EXT_STATS).fetchone() == (0,)
    tconn.rollback()
    assert scan_rows(tconn, CORRELATED) == before
    up, down = advice.migration()
    assert up.index("CREATE STATISTICS") > max(up.rfind("CREATE INDEX"), 0)
    assert "DROP STATISTICS IF EXISTS" in down


def test_the_migrations_statistics_really_fix_the_estimate(tconn, tauto):
    advice = advise(tconn, [CORRELATED])
    [fix] = advice.statistics
    try:
        for line in fix.create_sql.splitlines():
            tauto.execute(line)
        assert scan_rows(tauto, CORRELATED) == pytest.approx(fix.estimate_after, rel=0.5), fix
    finally:
        tauto.execute(fix.drop_sql)
        tauto.execute("ANALYZE traps.tickets")


def test_an_expression_without_statistics_gets_proven_expression_statistics(tconn):
    # lower(body) = '...': no statistics on the expression, so the planner guesses 0.5 %
    # (1,000 rows) for what is one row.
    sql = "SELECT id FROM traps.tickets WHERE lower(body) = 'c4ca4238a0b923820dcc509a6f75849b'"
    advice = advise(tconn, [sql])
    [fix] = [s for s in advice.statistics if s.kind == "create-statistics"]
    assert fix.columns == ("(lower(body))",)
    assert fix.estimate_before >= 100
    assert fix.estimate_after < 10
    assert "ON (lower(body))" in fix.create_sql
    assert tconn.execute(EXT_STATS).fetchone() == (0,)
