"""The side-effect classifier on SQL strings, with a fake catalog (no database)."""

from __future__ import annotations

import pickle
from collections.abc import Collection
from dataclasses import dataclass, field

import pglast
import pytest

from planalyzer.errors import UnsafeStatementError
from planalyzer.live.calls import NOT_CONSTANT, WriteTarget, parse_calls
from planalyzer.live.function_classes import CLASSES, Treatment, known_class
from planalyzer.live.side_effects import (
    Assessment,
    FunctionInfo,
    SequenceRef,
    TableFacts,
    TriggerInfo,
    assess,
)

_OIDS = iter(range(10_000, 1_000_000))


def core(name: str, nargs: int = 1, **kw) -> FunctionInfo:
    return FunctionInfo(next(_OIDS), "pg_catalog", name, nargs=nargs, **kw)


def user(name: str, schema: str = "public", **kw) -> FunctionInfo:
    return FunctionInfo(next(_OIDS), schema, name, **kw)


@dataclass
class FakeCatalog:
    """A catalog held in dicts; records what was asked so tests can check the lookups."""

    functions_: list[FunctionInfo] = field(default_factory=list)
    bodies: dict[int, str] = field(default_factory=dict)
    sequence_map: dict[str, SequenceRef] = field(default_factory=dict)
    view_map: dict[tuple[str | None, str], tuple[str, str]] = field(default_factory=dict)
    tables: dict[str, TableFacts] = field(default_factory=dict)
    path: tuple[str, ...] = ("pg_catalog", "public")
    asked_tables: list[WriteTarget] = field(default_factory=list)

    def search_path(self) -> tuple[str, ...]:
        return self.path

    def functions(self, names: Collection[str]) -> list[FunctionInfo]:
        return [f for f in self.functions_ if f.name in names]

    def function_bodies(self, oids: Collection[int]) -> dict[int, str]:
        return {oid: self.bodies[oid] for oid in oids if oid in self.bodies}

    def sequences(self, names: Collection[str]) -> dict[str, SequenceRef]:
        return {n: self.sequence_map[n] for n in names if n in self.sequence_map}

    def views(self, names: Collection[tuple[str | None, str]]) -> dict[str, str]:
        return dict(self.view_map[n] for n in names if n in self.view_map)

    def table(self, target: WriteTarget) -> TableFacts | None:
        self.asked_tables.append(target)
        return self.tables.get(target.table)


SETVAL = core("setval", nargs=2)
NEXTVAL = core("nextval")
BUILTINS = [
    SETVAL,
    core("setval", nargs=3),
    NEXTVAL,
    core("pg_terminate_backend", nargs=2, nargdefaults=1),
    core("pg_cancel_backend"),
    core("pg_advisory_lock"),
    core("pg_advisory_lock", nargs=2),
    core("pg_advisory_xact_lock"),
    core("pg_logical_emit_message", nargs=3),
    core("query_to_xml", nargs=4),
    core("lower", volatility="i"),
    core("now", nargs=0, volatility="s"),
    core("random", nargs=0),
    core("generate_series", nargs=2, volatility="i"),
]


def run(sql: str, catalog: FakeCatalog | None = None) -> Assessment:
    catalog = catalog or FakeCatalog(list(BUILTINS))
    return assess([raw.stmt for raw in pglast.parse_sql(sql)], catalog)


def keys(assessment: Assessment) -> list[tuple[str, str]]:
    return [(e.function, e.function_class.key) for e in assessment.effects]


@pytest.mark.parametrize(
    ("sql", "function"),
    [
        ("SELECT setval('orders_id_seq', 1000)", "pg_catalog.setval"),
        ("SELECT pg_catalog.setval('s', 1, false)", "pg_catalog.setval"),
        ("SELECT pg_terminate_backend(42)", "pg_catalog.pg_terminate_backend"),
        ("SELECT pg_terminate_backend(42, 1000)", "pg_catalog.pg_terminate_backend"),
        ("SELECT * FROM t WHERE pg_cancel_backend(pid)", "pg_catalog.pg_cancel_backend"),
        ("SELECT pg_advisory_lock(1)", "pg_catalog.pg_advisory_lock"),
        ("SELECT pg_advisory_lock(1, 2)", "pg_catalog.pg_advisory_lock"),
        ("SELECT pg_logical_emit_message(false, 'p', 'x')", "pg_catalog.pg_logical_emit_message"),
        ("SELECT pg_logical_emit_message($1, 'p', 'x')", "pg_catalog.pg_logical_emit_message"),
        ("WITH x AS (SELECT setval('s', 2)) SELECT * FROM x", "pg_catalog.setval"),
        ("UPDATE t SET a = (SELECT setval('s', 2))", "pg_catalog.setval"),
        ("SELECT 1 FROM t ORDER BY pg_advisory_lock(id)", "pg_catalog.pg_advisory_lock"),
    ],
)
def test_refused_wherever_written(sql, function):
    assessment = run(sql)

    assert [e.function for e in assessment.refused] == [function]
    err = assessment.refusal(sql)
    assert isinstance(err, UnsafeStatementError)
    assert err.functions == (function,)
    assert err.reasons == (assessment.refused[0].function_class.reason,)
    assert function in str(err)
    assert "allow_side_effects=True" in str(err)
    assert err.statement == sql


def test_error_pickles_with_functions_and_reasons():
    err = run("SELECT setval('s', 1)").refusal("SELECT setval('s', 1)")
    again = pickle.loads(pickle.dumps(err))
    assert (again.functions, again.reasons, str(again)) == (err.functions, err.reasons, str(err))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT lower('A'), now(), random()",
        "SELECT * FROM generate_series(1, 10)",
        "SELECT pg_logical_emit_message(true, 'p', 'x')",  # transactional: dropped on rollback
        "SELECT unknown_function(1)",  # unresolved: left to the server
        "SELECT 'setval(1)' AS text_not_a_call",
    ],
)
def test_harmless_statements_have_no_effects(sql):
    assert run(sql).effects == ()


def test_user_function_named_like_a_builtin_is_user_code_not_the_builtin():
    mine = user("setval", nargs=2)
    catalog = FakeCatalog([mine], path=("public",))  # pg_catalog's setval not visible by count
    assessment = run("SELECT public.setval('s', 1)", catalog)
    assert assessment.refused == ()
    assert keys(assessment) == [("public.setval", "user-volatile")]


def test_overloads_filtered_by_argument_count():
    catalog = FakeCatalog([user("f", nargs=1, volatility="i"), user("f", nargs=2)])
    assert keys(run("SELECT f(1)", catalog)) == []
    assert keys(run("SELECT f(1, 2)", catalog)) == [("public.f", "user-volatile")]


def test_schema_qualified_call_only_sees_that_schema():
    catalog = FakeCatalog(
        [user("f", schema="a", volatility="i"), user("f", schema="b")], path=("pg_catalog", "a")
    )
    assert keys(run("SELECT f()", catalog)) == []
    assert keys(run("SELECT b.f()", catalog)) == [("b.f", "user-volatile")]


def test_stable_and_immutable_user_functions_are_not_listed():
    catalog = FakeCatalog([user("s", volatility="s"), user("i", volatility="i")])
    assert run("SELECT s(), i()", catalog).effects == ()


def test_nextval_with_a_constant_sequence_is_measured_not_refused():
    ref = SequenceRef(7, "public.orders_id_seq")
    catalog = FakeCatalog(list(BUILTINS), sequence_map={"orders_id_seq": ref})
    assessment = run("SELECT nextval('orders_id_seq')", catalog)
    assert assessment.refused == ()
    assert assessment.sequences == (ref,)
    assert assessment.effects == ()  # the measurement reports it


def test_nextval_with_a_runtime_sequence_is_a_warning():
    assessment = run("SELECT nextval(name) FROM seqs")
    assert keys(assessment) == [("pg_catalog.nextval", "sequence-advance")]
    assert assessment.effects[0].treatment is Treatment.WARN


def test_transaction_advisory_lock_is_a_warning():
    assessment = run("SELECT pg_advisory_xact_lock(1)")
    assert assessment.refused == ()
    assert keys(assessment) == [("pg_catalog.pg_advisory_xact_lock", "transaction-advisory-lock")]
    assert "released by the rollback" in assessment.warnings()[0]


def test_sql_function_body_is_followed():
    hidden = user("reset_ids", language="sql")
    catalog = FakeCatalog([*BUILTINS, hidden], bodies={hidden.oid: "SELECT setval('s', 1)"})
    assessment = run("SELECT reset_ids()", catalog)
    assert [(e.function, e.where) for e in assessment.refused] == [
        ("pg_catalog.setval", "inside public.reset_ids()")
    ]
    assert ("public.reset_ids", "user-volatile") in keys(assessment)


def test_recursive_sql_functions_terminate():
    a = user("a", language="sql")
    b = user("b", language="sql")
    catalog = FakeCatalog([a, b], bodies={a.oid: "SELECT b()", b.oid: "SELECT a()"})
    assert sorted(keys(run("SELECT a()", catalog))) == [
        ("public.a", "user-volatile"),
        ("public.b", "user-volatile"),
    ]


def test_unparsable_body_still_lists_the_function():
    f = user("f", language="sql")
    catalog = FakeCatalog([f], bodies={f.oid: "this is not sql"})
    assert keys(run("SELECT f()", catalog)) == [("public.f", "user-volatile")]


def test_query_text_given_to_query_to_xml_is_followed():
    assessment = run("SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, false, '')")
    assert [e.function for e in assessment.refused] == ["pg_catalog.pg_terminate_backend"]
    unknown = run("SELECT query_to_xml(q, true, false, '') FROM queries")
    assert keys(unknown) == [("pg_catalog.query_to_xml", "sql-text")]


def test_view_query_is_followed():
    catalog = FakeCatalog(
        list(BUILTINS), view_map={(None, "v"): ("public.v", "SELECT setval('s', 5) AS x")}
    )
    assert [(e.function, e.where) for e in run("SELECT * FROM v", catalog).refused] == [
        ("pg_catalog.setval", "in view public.v")
    ]


def _orders(**kw) -> TableFacts:
    return TableFacts("public.orders", **kw)


def test_insert_watches_identity_sequences_and_follows_defaults():
    ident = SequenceRef(1, "public.orders_id_seq")
    other = SequenceRef(2, "public.ref_seq")
    stamp = user("stamp")
    facts = _orders(
        defaults=(("ref", "nextval('ref_seq'::regclass)"), ("stamp", "public.stamp()")),
        sequences=(ident,),
    )
    catalog = FakeCatalog(
        [*BUILTINS, stamp], tables={"orders": facts}, sequence_map={"ref_seq": other}
    )
    assessment = run("INSERT INTO orders (total) VALUES (1)", catalog)
    assert set(assessment.sequences) == {ident, other}
    assert [(e.function, e.where) for e in assessment.effects] == [
        ("public.stamp", "in the default of public.orders.stamp")
    ]


def test_update_and_delete_do_not_run_defaults_unless_set_to_default():
    facts = _orders(defaults=(("id", "nextval('s'::regclass)"),), sequences=(SequenceRef(1, "s"),))
    catalog = FakeCatalog(list(BUILTINS), tables={"orders": facts})
    assert run("UPDATE orders SET total = 1", catalog).sequences == ()
    assert run("DELETE FROM orders", catalog).sequences == ()
    assert run("UPDATE orders SET id = DEFAULT", catalog).sequences == (SequenceRef(1, "s"),)


def test_default_hiding_a_refused_function_is_refused():
    facts = _orders(defaults=(("v", "setval('s'::regclass, 1)"),))
    catalog = FakeCatalog(list(BUILTINS), tables={"orders": facts})
    refused = run("INSERT INTO orders DEFAULT VALUES", catalog).refused
    assert [(e.function, e.where) for e in refused] == [
        ("pg_catalog.setval", "in the default of public.orders.v")
    ]


def _trigger(name: str, events: set[str], function: FunctionInfo) -> TriggerInfo:
    return TriggerInfo(name, "public.orders", frozenset(events), function)


def test_triggers_matching_the_events_are_listed():
    audit = user("audit", language="plpgsql")
    on_delete = user("on_delete", language="plpgsql")
    fk = core("RI_FKey_check_ins", nargs=0)  # internal foreign-key trigger: built in, skipped
    facts = _orders(
        triggers=(
            _trigger("audit", {"INSERT", "UPDATE"}, audit),
            _trigger("gone", {"DELETE"}, on_delete),
            _trigger("fk", {"INSERT", "UPDATE"}, fk),
        )
    )
    catalog = FakeCatalog([], tables={"orders": facts})
    assert [(e.function, e.where) for e in run("UPDATE orders SET a = 1", catalog).effects] == [
        ("public.audit", "trigger audit on public.orders")
    ]
    assert keys(run("DELETE FROM orders", catalog)) == [("public.on_delete", "trigger")]
    upsert = "INSERT INTO orders VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2"
    assert keys(run(upsert, catalog)) == [("public.audit", "trigger")]


def test_writes_in_ctes_and_merge_are_targets():
    catalog = FakeCatalog([])
    run(
        "WITH d AS (DELETE FROM a RETURNING id) "
        "MERGE INTO b USING d ON b.id = d.id WHEN MATCHED THEN UPDATE SET x = 1 "
        "WHEN NOT MATCHED THEN INSERT VALUES (d.id)",
        catalog,
    )
    asked = {(t.table, tuple(sorted(t.events))) for t in catalog.asked_tables}
    assert asked == {("a", ("DELETE",)), ("b", ("INSERT", "UPDATE"))}


def test_copy_to_program_inside_a_function_is_refused():
    f = user("export", language="sql")
    catalog = FakeCatalog([f], bodies={f.oid: "COPY t TO PROGRAM 'curl x'"})
    assert [e.function for e in run("SELECT export()", catalog).refused] == ["COPY TO PROGRAM"]


def test_warnings_say_when_a_refused_function_ran_anyway():
    lines = run("SELECT setval('s', 1)").warnings()
    assert len(lines) == 1
    assert lines[0].startswith("allow_side_effects=True")
    assert "pg_catalog.setval" in lines[0]


def test_constant_arguments_are_read_through_casts():
    found = parse_calls("SELECT f('a'::regclass, 1, true, NULL, x, g(1), 1.5)")
    assert found is not None
    assert found.calls[0].args == ("a", 1, True, None, NOT_CONSTANT, NOT_CONSTANT, "1.5")


def test_deeply_nested_expression_does_not_overflow():
    # pglast parses 2,000 levels; the walk over them must neither recurse nor miss the call
    assessment = run("SELECT " + "(" * 2000 + "setval('s', 1)" + ")" * 2000)
    assert [e.function for e in assessment.refused] == ["pg_catalog.setval"]


def test_every_class_has_a_reason_and_known_names_resolve():
    for cls in CLASSES:
        assert cls.reason
        assert cls.key == cls.key.lower()
        for name in cls.names:
            assert known_class("pg_catalog" if cls.extension is None else "x", name, cls.extension)
    assert known_class("public", "dblink_new_thing", "dblink") is not None
    assert known_class("public", "dblink_build_sql_insert", "dblink") is None
    assert known_class("pg_catalog", "binary_upgrade_set_next_pg_type_oid", None) is not None


def test_docs_list_every_class_and_function():
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs" / "safety.md").read_text(encoding="utf-8")
    for cls in CLASSES:
        assert f"`{cls.key}`" in text
        for name in cls.names:
            assert f"`{name}`" in text, f"docs/safety.md does not list {name}"


PLPGSQL_TRIGGER = """CREATE FUNCTION public.grab() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id > 0 THEN PERFORM pg_advisory_lock(NEW.id); END IF;
  EXECUTE 'SELECT pg_reload_conf()';
  RETURN NEW;
END $$"""


def test_plpgsql_trigger_body_is_read():
    grab = user("grab", language="plpgsql")
    facts = _orders(triggers=(_trigger("grabber", {"INSERT"}, grab),))
    reload = core("pg_reload_conf", nargs=0)
    catalog = FakeCatalog(
        [*BUILTINS, reload], tables={"orders": facts}, bodies={grab.oid: PLPGSQL_TRIGGER}
    )
    assessment = run("INSERT INTO orders VALUES (1)", catalog)
    assert [(e.function, e.where) for e in assessment.refused] == [
        (
            "pg_catalog.pg_advisory_lock",
            "inside public.grab(), run by trigger grabber on public.orders",
        ),
        (
            "pg_catalog.pg_reload_conf",
            "inside public.grab(), run by trigger grabber on public.orders",
        ),
    ]
    assert ("public.grab", "trigger") in keys(assessment)


def test_plpgsql_function_with_only_runtime_sql_is_listed_not_refused():
    dyn = user("dyn", language="plpgsql")
    body = (
        "CREATE FUNCTION public.dyn(q text) RETURNS void LANGUAGE plpgsql AS $$ "
        "BEGIN EXECUTE q; END $$"
    )
    catalog = FakeCatalog([*BUILTINS, dyn], bodies={dyn.oid: body})
    assert keys(run("SELECT dyn('x')", catalog)) == [("public.dyn", "user-volatile")]


def test_foreign_key_cascades_reach_the_referencing_tables_triggers():
    audit = user("audit_items", language="plpgsql")
    cascade = WriteTarget("public", "items", frozenset({"DELETE"}))
    nulling = WriteTarget("public", "notes", frozenset({"UPDATE"}))
    catalog = FakeCatalog(
        [],
        tables={
            "orders": _orders(cascades=(("DELETE", cascade), ("DELETE", nulling))),
            "items": TableFacts(
                "public.items",
                triggers=(TriggerInfo("gone", "public.items", frozenset({"DELETE"}), audit),),
            ),
        },
    )
    assessment = run("DELETE FROM orders WHERE id = 1", catalog)
    assert [(e.function, e.where) for e in assessment.effects] == [
        ("public.audit_items", "trigger gone on public.items")
    ]
    asked = {(t.table, tuple(sorted(t.events))) for t in catalog.asked_tables}
    assert asked == {("orders", ("DELETE",)), ("items", ("DELETE",)), ("notes", ("UPDATE",))}
    catalog.asked_tables.clear()
    run("UPDATE orders SET total = 1", catalog)  # the actions above are ON DELETE only
    assert [t.table for t in catalog.asked_tables] == ["orders"]


def test_self_referencing_cascade_terminates():
    loop = WriteTarget(None, "orders", frozenset({"DELETE"}))
    catalog = FakeCatalog([], tables={"orders": _orders(cascades=(("DELETE", loop),))})
    assert run("DELETE FROM orders", catalog).effects == ()
