"""Functions whose effects outlive the rollback around EXPLAIN ANALYZE, grouped by what they do.

`planalyzer.live.explain` runs EXPLAIN ANALYZE in a transaction that is always rolled back.
That undoes table data, catalog changes, ``SET``/``set_config`` and ``NOTIFY`` (sent only at
commit), large objects and transaction-level locks. It does not undo what a function does
outside the transaction. Each `FunctionClass` here names such functions and what happens to a
statement calling one:

- `Treatment.REFUSE`: refused with `UnsafeStatementError` unless ``allow_side_effects=True``;
- `Treatment.WARN`: run, with a sentence on ``plan.warnings`` saying what remained;
- `Treatment.LIST`: user code (volatile functions, triggers): run and listed on
  ``plan.warnings``, because planalyzer cannot see what it does.

Built-in functions are recognised only in ``pg_catalog``, and extension functions only through
the extension that owns them (``pg_depend``), so a user's own ``public.setval`` is user code, not
the sequence function. The reasons come from the PostgreSQL manual's chapters on sequence,
advisory lock, server signalling, backup, replication and statistics functions.

Example:
    >>> known_class("pg_catalog", "setval", None).treatment
    <Treatment.REFUSE: 'refuse'>
    >>> known_class("public", "setval", None) is None
    True
    >>> known_class("pg_catalog", "pg_logical_emit_message", None, (True, "p", "x")) is None
    True
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "CLASSES",
    "CORE_SCHEMAS",
    "LIST_TRIGGER",
    "LIST_USER_VOLATILE",
    "SQL_TEXT_ARGUMENT",
    "SQL_TEXT_UNKNOWN",
    "FunctionClass",
    "Treatment",
    "known_class",
]

CORE_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
"""Schemas holding only built-in functions; anything elsewhere is user or extension code."""


class Treatment(enum.Enum):
    """What EXPLAIN ANALYZE does with a statement that calls a function of a class."""

    REFUSE = "refuse"
    """Not run: no rollback undoes the effect. ``allow_side_effects=True`` runs it anyway."""

    WARN = "warn"
    """Run; the effect that remains is stated on ``plan.warnings``."""

    LIST = "list"
    """User code: run and named on ``plan.warnings``."""


@dataclass(frozen=True)
class FunctionClass:
    """A group of functions with the same effect and the same treatment.

    Attributes:
        key: a stable kebab-case id (``sequence-set``), used in docs and tests.
        treatment: refuse, warn or list.
        reason: what the function does that the rollback does not undo, as a clause that reads
            after the function's name ("sets a sequence's value ...").
        names: the functions' names.
        extension: the extension that owns them; None for functions built into ``pg_catalog``.
    """

    key: str
    treatment: Treatment
    reason: str
    names: frozenset[str]
    extension: str | None = None


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


CLASSES: tuple[FunctionClass, ...] = (
    FunctionClass(
        "sequence-set",
        Treatment.REFUSE,
        "sets a sequence's value, and sequences are not transactional: the rollback leaves it set",
        _names("setval"),
    ),
    FunctionClass(
        "session-advisory-lock",
        Treatment.REFUSE,
        "takes or releases a session-level advisory lock, which the rollback does not release "
        "(it would stay held on your connection)",
        _names(
            "pg_advisory_lock pg_advisory_lock_shared pg_try_advisory_lock "
            "pg_try_advisory_lock_shared pg_advisory_unlock pg_advisory_unlock_shared "
            "pg_advisory_unlock_all"
        ),
    ),
    FunctionClass(
        "signal-backend",
        Treatment.REFUSE,
        "signals another server process (terminating or cancelling its work); no rollback "
        "undoes that",
        _names("pg_terminate_backend pg_cancel_backend pg_log_backend_memory_contexts"),
    ),
    FunctionClass(
        "server-administration",
        Treatment.REFUSE,
        "acts on the whole server (configuration, log files, WAL, backup or recovery), outside "
        "any transaction",
        _names(
            "pg_reload_conf pg_rotate_logfile pg_rotate_logfile_old pg_promote "
            "pg_wal_replay_pause pg_wal_replay_resume pg_switch_wal pg_switch_xlog "
            "pg_xlog_replay_pause pg_xlog_replay_resume pg_create_restore_point "
            "pg_backup_start pg_backup_stop pg_start_backup pg_stop_backup "
            "pg_stop_making_pinned_objects"
        ),
    ),
    FunctionClass(
        "replication",
        Treatment.REFUSE,
        "creates, drops or advances a replication slot or origin (slots outlive the "
        "transaction, and changes a slot handed out are consumed for good)",
        _names(
            "pg_create_physical_replication_slot pg_create_logical_replication_slot "
            "pg_copy_physical_replication_slot pg_copy_logical_replication_slot "
            "pg_drop_replication_slot pg_replication_slot_advance pg_logical_slot_get_changes "
            "pg_logical_slot_get_binary_changes pg_replication_origin_create "
            "pg_replication_origin_drop pg_replication_origin_advance "
            "pg_replication_origin_session_setup pg_replication_origin_session_reset "
            "pg_replication_origin_xact_setup pg_replication_origin_xact_reset"
        ),
    ),
    FunctionClass(
        "logical-message",
        Treatment.REFUSE,
        "emits a logical decoding message that is not transactional (its first argument is "
        "not the constant true), so consumers receive it although the transaction rolls back",
        _names("pg_logical_emit_message"),
    ),
    FunctionClass(
        "statistics-reset",
        Treatment.REFUSE,
        "resets cumulative statistics counters; no rollback restores them",
        _names(
            "pg_stat_reset pg_stat_reset_shared pg_stat_reset_single_table_counters "
            "pg_stat_reset_single_function_counters pg_stat_reset_slru "
            "pg_stat_reset_replication_slot pg_stat_reset_subscription_stats"
        ),
    ),
    FunctionClass(
        "statistics-reset",
        Treatment.REFUSE,
        "resets pg_stat_statements' counters; no rollback restores them",
        _names("pg_stat_statements_reset"),
        extension="pg_stat_statements",
    ),
    FunctionClass(
        "server-files",
        Treatment.REFUSE,
        "reads or writes a file on the database server, outside the transaction",
        _names("lo_import lo_export"),
    ),
    FunctionClass(
        "server-files",
        Treatment.REFUSE,
        "writes, renames or deletes a file on the database server, outside the transaction",
        _names("pg_file_write pg_file_rename pg_file_unlink pg_file_sync"),
        extension="adminpack",
    ),
    FunctionClass(
        "server-files",
        Treatment.REFUSE,
        "writes the autoprewarm file or starts its background worker, outside the transaction",
        _names("autoprewarm_dump_now autoprewarm_start_worker"),
        extension="pg_prewarm",
    ),
    FunctionClass(
        "remote-sql",
        Treatment.REFUSE,
        "runs SQL on another server or keeps a dblink connection open; the remote side "
        "commits on its own and the connection outlives the rollback",
        _names(
            "dblink dblink_exec dblink_send_query dblink_get_result dblink_open dblink_fetch "
            "dblink_close dblink_connect dblink_connect_u dblink_disconnect dblink_cancel_query "
            "dblink_get_notify"
        ),
        extension="dblink",
    ),
    FunctionClass(
        "session-state",
        Treatment.REFUSE,
        "changes this session's hypothetical indexes, which are not transactional and would "
        "change later plans on your connection",
        _names(
            "hypopg_create_index hypopg_drop_index hypopg_reset hypopg_reset_index "
            "hypopg_hide_index hypopg_unhide_index hypopg_unhide_all_indexes"
        ),
        extension="hypopg",
    ),
    FunctionClass(
        "page-surgery",
        Treatment.REFUSE,
        "changes table pages directly, outside MVCC; no rollback undoes it",
        _names("heap_force_kill heap_force_freeze"),
        extension="pg_surgery",
    ),
    FunctionClass(
        "page-surgery",
        Treatment.REFUSE,
        "truncates a table's visibility map, outside MVCC; no rollback undoes it",
        _names("pg_truncate_visibility_map"),
        extension="pg_visibility",
    ),
    FunctionClass(
        "sequence-advance",
        Treatment.WARN,
        "draws sequence values, which the rollback does not return",
        _names("nextval"),
    ),
    FunctionClass(
        "transaction-advisory-lock",
        Treatment.WARN,
        "takes a transaction-level advisory lock: held while EXPLAIN ANALYZE ran (other "
        "sessions asking for it waited) and released by the rollback",
        _names(
            "pg_advisory_xact_lock pg_advisory_xact_lock_shared pg_try_advisory_xact_lock "
            "pg_try_advisory_xact_lock_shared"
        ),
    ),
    FunctionClass(
        "index-maintenance",
        Treatment.WARN,
        "summarises or cleans up an index physically; that stays after the rollback (query "
        "results are not affected)",
        _names(
            "brin_summarize_new_values brin_summarize_range brin_desummarize_range "
            "gin_clean_pending_list"
        ),
    ),
    FunctionClass(
        "session-state",
        Treatment.WARN,
        "sets this session's random() seed, which the rollback does not restore",
        _names("setseed"),
    ),
)

LIST_USER_VOLATILE = FunctionClass(
    "user-volatile",
    Treatment.LIST,
    "is a VOLATILE function that is not built in: its changes to data are rolled back, "
    "anything else it does is not",
    frozenset(),
)
"""User code the catalog marks VOLATILE (functions outside pg_catalog/information_schema)."""

LIST_TRIGGER = FunctionClass(
    "trigger",
    Treatment.LIST,
    "is a trigger function: its changes to data are rolled back, anything else it does is not",
    frozenset(),
)
"""A trigger function of a table the statement writes (not the internal foreign-key ones)."""

SQL_TEXT_UNKNOWN = FunctionClass(
    "sql-text",
    Treatment.WARN,
    "runs SQL given as text that is only known at run time, so planalyzer could not look inside it",
    frozenset(),
)
"""``query_to_xml(query, ...)`` and kin with a query that is not a constant."""

SQL_TEXT_ARGUMENT: dict[str, int] = {
    "query_to_xml": 0,
    "query_to_xmlschema": 0,
    "query_to_xml_and_xmlschema": 0,
    "ts_stat": 0,
    "ts_rewrite": 1,
}
"""Built-in functions that execute a query passed as text, and that argument's position."""

_READ_ONLY_DBLINK = _names(
    "dblink_build_sql_insert dblink_build_sql_update dblink_build_sql_delete dblink_get_pkey "
    "dblink_current_query dblink_get_connections dblink_is_busy dblink_error_message "
    "dblink_fdw_validator"
)

_BY_NAME: dict[tuple[str | None, str], FunctionClass] = {
    (cls.extension, name): cls for cls in CLASSES for name in cls.names
}


def known_class(
    schema: str, name: str, extension: str | None, args: tuple[object, ...] = ()
) -> FunctionClass | None:
    """The class of a resolved function, or None when it has no effect past the rollback.

    Args:
        schema: the function's schema (``pg_catalog`` for built-ins).
        name: its name.
        extension: the extension that owns it, if any.
        args: the call's constant arguments where known (see `planalyzer.live.calls`); only
            ``pg_logical_emit_message`` looks at them.

    Returns:
        The class, or None for a function that is harmless under a rollback or unknown (user
        code is classified by the caller from its volatility).
    """
    if extension is not None:
        found = _BY_NAME.get((extension, name))
        if found is None and extension == "dblink" and name.startswith("dblink"):
            # A newer dblink function: assume it talks to the remote side unless known not to.
            found = None if name in _READ_ONLY_DBLINK else _BY_NAME[("dblink", "dblink")]
        return found
    if schema != "pg_catalog":
        return None
    if name.startswith("binary_upgrade_"):
        return _BY_NAME[(None, "pg_stop_making_pinned_objects")]
    found = _BY_NAME.get((None, name))
    if found is not None and name == "pg_logical_emit_message" and args and args[0] is True:
        return None  # transactional: decoded only if the transaction commits
    return found
