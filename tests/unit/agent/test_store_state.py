"""The store's state index: queries by `meta.state` cost what they return; old data dirs migrate."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from deployer.emulator.core import Store
from deployer.emulator.core.store import DB_NAME

OLD_SCHEMA = """
CREATE TABLE docs (kind TEXT NOT NULL, key TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '', etag TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, body TEXT NOT NULL, data BLOB, PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE INDEX docs_by_parent ON docs (kind, parent, key);
CREATE INDEX docs_by_key ON docs (key);
"""


def test_state_queries(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for i, state in enumerate(["active", "running", "completed", "active"]):
        store.put("task", f"j/{i}", {"id": str(i), "meta": {"state": state}}, parent="j")
    store.put("task", "k/0", {"id": "0", "meta": {"state": "active"}}, parent="k")
    store.put("other", "x", {"no": "meta"})
    assert [d.key for d in store.by_state("task", ("active",), parent="j")] == ["j/0", "j/3"]
    assert [d.key for d in store.by_state("task", ("active",))] == ["j/0", "j/3", "k/0"]
    assert [d.key for d in store.by_state("task", ("active", "running"), parent="j", limit=2)] == ["j/0", "j/1"]
    assert store.count_states("task", ("active", "running"), parent="j") == 3
    assert store.any_state("task", ("running",), parent="j") and not store.any_state("task", ("running",), parent="k")
    store.update("task", "j/1", lambda b: {**b, "meta": {"state": "completed"}})
    assert store.count_states("task", ("completed",), parent="j") == 2
    plan = store._conn().execute(
        "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM docs INDEXED BY docs_state WHERE kind = ? AND state IN (?) "
        "AND parent = ?", ("task", "active", "j")).fetchall()
    assert "COVERING INDEX docs_state" in str(plan)


def test_a_data_dir_from_before_the_state_column_is_migrated(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.executescript(OLD_SCHEMA)
    conn.execute("INSERT INTO docs VALUES ('task', 'j/0', 'j', 'e', 0, 0, ?, NULL)",
                 (json.dumps({"meta": {"state": "active"}}),))
    conn.commit()
    conn.close()
    store = Store(tmp_path)
    assert [d.key for d in store.by_state("task", ("active",), parent="j")] == ["j/0"]


def test_reads_by_parent_use_the_parent_index(tmp_path: Path) -> None:
    """Listing one job's tasks must not walk every task of the store (it did: 36 ms per read of a
    job's ten tasks among 50,000, the cost that grew a 500-pool apply with its square)."""
    store = Store(tmp_path)
    for j in range(3):
        for t in range(3):
            store.put("task", f"j{j}/{t}", {"meta": {"state": "active"}}, parent=f"j{j}")
    seen: list[str] = []
    conn = store._conn()
    conn.set_trace_callback(seen.append)
    assert [d.key for d in store.list("task", parent="j1")] == ["j1/0", "j1/1", "j1/2"]
    store.count("task", parent="j1", field="$.meta.state", not_in=("completed",))
    store.max_field("task", parent="j1", field="$.meta.missing")
    conn.set_trace_callback(None)
    for sql in seen:
        plan = str(conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
        assert "docs_by_parent" in plan, (sql, plan)


def test_children_read_a_slice_at_a_time(tmp_path: Path) -> None:
    """A page of a job's listing reads its own tasks only (LIMIT/OFFSET on the parent index)."""
    store = Store(tmp_path)
    for t in range(7):
        store.put("task", f"j/{t}", {"id": str(t), "meta": {"state": "active"}}, parent="j")
    store.put("task", "k/0", {"id": "0", "meta": {"state": "active"}}, parent="k")
    children = store.children("task", "j")
    everything = store.list("task", parent="j")
    seen: list[str] = []
    conn = store._conn()
    conn.set_trace_callback(seen.append)
    assert len(children) == 7
    assert children[2:5] == everything[2:5] and children[5:100] == everything[5:]
    assert children[3] == everything[3] and children[-1] == everything[-1]
    assert children[::2] == everything[::2] and list(children) == everything
    assert children[7:] == [] and children[10:20] == []
    conn.set_trace_callback(None)
    page = [sql for sql in seen if "LIMIT" in sql]
    assert page and all("docs_by_parent" in str(conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()) for sql in page)
    with pytest.raises(IndexError):
        children[7]


def test_fields_are_read_without_decoding(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put("task", "j/0", {"requiredSlots": 2, "meta": {"state": "completed", "exec": {"result": "failure"}}},
              parent="j")
    store.put("task", "j/1", {"meta": {"state": "active"}}, parent="j")
    store.put("task", "k/0", {"meta": {"state": "running"}}, parent="k")
    rows = store.fields("task", ("$.meta.state", "$.requiredSlots", "$.meta.exec.result"), parent="j")
    assert sorted(rows, key=str) == sorted([("completed", 2, "failure"), ("active", None, None)], key=str)
