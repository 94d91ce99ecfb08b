"""The emulator's state: JSON documents in SQLite, keyed by (kind, key), grouped by parent.

    store = Store(resolve_data_dir())                       # DEPLOY_LOCAL_DIR or ./.deploy
    doc = store.put("storageAccount", key, body, parent=group_key)   # new etag on every write
    store.get("storageAccount", key)         -> Doc | None
    store.list("storageAccount", parent=group_key)          # one query, ordered by key
    store.list("storageAccount", prefix="/subscriptions/s/")  # every key under a prefix
    store.delete("storageAccount", key)      -> bool
    store.update("pool", key, lambda body: {**body, "x": 1})  # read-modify-write, atomic

Optimistic concurrency: `put`/`delete` take `expect=` — the etag the caller read (or ABSENT for
"must not exist yet"); if the stored document moved on, `StaleWrite` is raised. For multi-step
changes, `with store.transaction():` runs everything in one IMMEDIATE transaction (serialised
against every other writer, in this process or another one).

Documents may carry a binary payload (`data=`, e.g. blob content), read with `read_data`.
A `put` without `data` keeps the stored payload.

Connections: one per thread (and per process: a forked child opens its own); WAL journal and a
busy timeout, so the served and the embedded emulator can share one data directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from deployer.errors import LocalStateError

from . import clock, etag

DB_NAME = "emulator.sqlite3"
ABSENT = "\x00absent"  # `expect=ABSENT`: the document must not exist

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    parent  TEXT NOT NULL DEFAULT '',
    etag    TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    body    TEXT NOT NULL,
    data    BLOB,
    state   TEXT,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS docs_by_parent ON docs (kind, parent, key);
CREATE INDEX IF NOT EXISTS docs_by_key ON docs (key);
"""
# `state` is a copy of the body's `meta.state` (jobs, tasks, nodes...), written by `put`, so that
# "the tasks of this job that are active" is an index range (docs_state covers it: no document
# is read to count or find them). Data directories made before it get the column on open.
_STATE_SCHEMA = """
DROP INDEX IF EXISTS docs_by_state;
CREATE INDEX IF NOT EXISTS docs_state ON docs (kind, state, parent, key);
"""

# Connections inherited across fork() are never closed by the child (closing them could
# disturb the parent's locks); they are parked here instead.
_abandoned: list[sqlite3.Connection] = []


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the argument, else DEPLOY_LOCAL_DIR, else ./.deploy (created).
    LocalStateError, naming where the folder came from, when it cannot be created or written."""
    source = "the data folder"
    if data_dir is None:
        env = os.environ.get("DEPLOY_LOCAL_DIR")
        source = "DEPLOY_LOCAL_DIR" if env else "the local data folder"
        data_dir = env or Path.cwd() / ".deploy"
    fix = "set DEPLOY_LOCAL_DIR to" if source == "DEPLOY_LOCAL_DIR" else "use"
    try:
        path = Path(data_dir).expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise LocalStateError(f"{source} {path} is not a folder (it is a file); {fix} a folder for the "
                                  "local emulator's state (it is created if missing)")
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalStateError(f"{source} {data_dir}: cannot create the folder ({exc.strerror or exc}); {fix} a "
                              "folder you can write") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise LocalStateError(f"{source} {path} is not writable; {fix} a folder you can write, or make it "
                              "writable")
    return path


QUICK_CHECK_BYTES = 256 * 1024 * 1024


def check_state(store: Store) -> None:
    """Open the state file and check it, so a damaged or read-only file is reported as such,
    naming it, before any request (a request would only see a 500 Internal Server Error).
    `PRAGMA quick_check` reads every page (measured: 70 ms for 50 MB of state), so past
    QUICK_CHECK_BYTES only the file's header and schema are read."""
    path = store.path
    if path.exists() and not path.is_file():
        raise LocalStateError(f"the local state file {path} is not a file; move it away")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise LocalStateError(f"the local state file {path} is read-only; make it writable (chmod u+rw), or set "
                              "DEPLOY_LOCAL_DIR to another folder")
    try:
        conn = store._conn()
        if path.stat().st_size <= QUICK_CHECK_BYTES:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)").fetchall()]
        else:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            problems = ["ok"]
    except sqlite3.DatabaseError as exc:
        store.close()
        problems = [str(exc)]
    # quick_check's lines carry headers and newlines; a diagnostic is one line
    problems = [" ".join(p.replace("*** in database main ***", "").split()) for p in problems]
    problems = [p for p in problems if p][:3]
    if problems != ["ok"]:
        if any("readonly" in p for p in problems):
            raise LocalStateError(f"the local state file {path} cannot be written ({'; '.join(problems)}); make it "
                                  "writable, or set DEPLOY_LOCAL_DIR to another folder")
        raise LocalStateError(
            f"the local state file {path} is damaged ({'; '.join(problems)}); run `deploy emulator reset --data "
            f"{path.parent}` to start from an empty local state (what the local target holds is lost), or move "
            "the file away to keep it")


STATE_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal")


def reset_state(data_dir: Path) -> list[Path]:
    """Delete the local state in `data_dir` (the SQLite file, its journals, the request and error
    logs and the run locks) and return what was removed; the folder and its certificates stay.
    Only files the emulator writes are touched, whatever else the folder holds."""
    import shutil

    from .app import ERRORS_NAME, LOG_NAME

    removed: list[Path] = []
    for name in (*STATE_FILES, LOG_NAME, ERRORS_NAME):
        path = data_dir / name
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(path)
    locks = data_dir / "locks"
    if locks.is_dir():
        shutil.rmtree(locks)
        removed.append(locks)
    return removed


class StaleWrite(Exception):  # noqa: N818
    """`expect=` did not hold: the document changed (or appeared, or vanished) since it was read."""

    def __init__(self, kind: str, key: str, current: str | None) -> None:
        super().__init__(f"{kind} {key}: stored etag is {current or 'absent'}")
        self.kind, self.key, self.current = kind, key, current


@dataclass(frozen=True)
class Doc:
    kind: str
    key: str
    parent: str
    etag: str  # bare token, see core.etag for renderings
    created: float  # epoch seconds (emulator clock)
    updated: float
    body: dict[str, Any]


DocList = list[Doc]  # (inside Store, `list` names its method)
Rows = list[tuple[Any, ...]]


class Children(Sequence[Doc]):
    """The documents of a kind under one parent, ordered by key, read a slice at a time: a page
    of a 100,000-task listing decodes its 1,000 tasks (LIMIT/OFFSET on the parent index), where a
    list decoded all of them for every page. Iterating reads them all, as `Store.list` does."""

    def __init__(self, store: Store, kind: str, parent: str) -> None:
        self._store, self._kind, self._parent = store, kind, parent
        self._len: int | None = None

    def __len__(self) -> int:
        if self._len is None:
            self._len = self._store.count_children(self._kind, self._parent)
        return self._len

    @overload
    def __getitem__(self, index: int) -> Doc: ...

    @overload
    def __getitem__(self, index: slice) -> list[Doc]: ...

    def __getitem__(self, index: int | slice) -> Doc | list[Doc]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            return self._store.list(self._kind, parent=self._parent, offset=start, limit=max(0, stop - start))
        found = self[index:index + 1] if index >= 0 else list(self)[index:][:1]
        if not found:
            raise IndexError(index)
        return found[0]

    def __iter__(self) -> Iterator[Doc]:
        return iter(self._store.list(self._kind, parent=self._parent))


class Store:
    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.data_dir = resolve_data_dir(data_dir)
        self.path = self.data_dir / DB_NAME
        self._local = threading.local()
        self._init_lock = threading.Lock()
        self._initialised = False
        check_state(self)

    # -- connections ----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        if conn is not None:
            _abandoned.append(conn)
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        self._retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = NORMAL")
        local.conn, local.pid, local.depth = conn, os.getpid(), 0
        if not self._initialised:
            with self._init_lock:
                if not self._initialised:
                    self._retry_locked(lambda: conn.executescript(_SCHEMA))
                    self._retry_locked(lambda: self._migrate(conn))
                    self._initialised = True
        return conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        columns = {row[1] for row in conn.execute("PRAGMA table_xinfo(docs)")}
        if "state" not in columns:
            conn.execute("BEGIN IMMEDIATE")
            try:
                columns = {row[1] for row in conn.execute("PRAGMA table_xinfo(docs)")}
                if "state" not in columns:
                    conn.execute("ALTER TABLE docs ADD COLUMN state TEXT")
                    conn.execute("UPDATE docs SET state = json_extract(body, '$.meta.state')")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        conn.executescript(_STATE_SCHEMA)

    @staticmethod
    def _retry_locked(fn: Callable[[], Any]) -> Any:
        for attempt in range(200):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or attempt == 199:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    # -- transactions ---------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """One IMMEDIATE transaction (nestable: inner blocks join the outer one)."""
        conn = self._conn()
        local = self._local
        if local.depth:
            local.depth += 1
            try:
                yield self
            finally:
                local.depth -= 1
            return
        self._retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
        local.depth = 1
        try:
            yield self
        except BaseException:
            local.depth = 0
            conn.execute("ROLLBACK")
            raise
        local.depth = 0
        conn.execute("COMMIT")

    # -- reads ----------------------------------------------------------------------------
    @staticmethod
    def _doc(row: tuple[Any, ...]) -> Doc:
        kind, key, parent, tag, created, updated, body = row
        return Doc(kind, key, parent, tag, created, updated, json.loads(body))

    _COLS = "kind, key, parent, etag, created, updated, body"

    def get(self, kind: str, key: str) -> Doc | None:
        row = self._conn().execute(f"SELECT {self._COLS} FROM docs WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return self._doc(row) if row else None

    def exists(self, kind: str, key: str) -> bool:
        """Whether a document exists: one primary-key lookup, nothing decoded."""
        return self._conn().execute("SELECT 1 FROM docs WHERE kind = ? AND key = ?", (kind, key)).fetchone() is not None

    def list(self, kind: str, *, parent: str | None = None, prefix: str | None = None,
             offset: int = 0, limit: int | None = None) -> list[Doc]:
        """Documents of a kind, ordered by key: all, those of one parent, or keys under a prefix;
        `offset`/`limit` take a slice of that order (see `children`).

        With `parent`, the parent index is named: without statistics SQLite's planner prefers
        walking the primary key (kind, key) for its order, i.e. every document of the kind (all
        tasks of all jobs to list one job's ten), which made reads cost the size of the store."""
        index = " INDEXED BY docs_by_parent" if parent is not None else ""
        sql = f"SELECT {self._COLS} FROM docs{index} WHERE kind = ?"
        args: list[Any] = [kind]
        if parent is not None:
            sql += " AND parent = ?"
            args.append(parent)
        if prefix is not None:
            sql += " AND key >= ? AND key < ?"
            args += [prefix, prefix + "\U0010ffff"]
        sql += " ORDER BY key"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            args += [-1 if limit is None else limit, offset]
        rows = self._conn().execute(sql, args).fetchall()
        return [self._doc(r) for r in rows]

    def children(self, kind: str, parent: str) -> Children:
        """The documents of a kind under `parent`, read lazily a slice at a time (see Children)."""
        return Children(self, kind, parent)

    def count_children(self, kind: str, parent: str) -> int:
        """How many documents of a kind `parent` has: index entries counted, nothing decoded."""
        sql = "SELECT COUNT(*) FROM docs INDEXED BY docs_by_parent WHERE kind = ? AND parent = ?"
        return int(self._conn().execute(sql, (kind, parent)).fetchone()[0])

    def fields(self, kind: str, paths: tuple[str, ...], *, parent: str) -> Rows:
        """The JSON values at `paths` (`$.meta.state`, ...) of each document of a kind under
        `parent`, as tuples: SQLite reads them, no document is decoded in Python (task counts of a
        100,000-task job)."""
        columns = ", ".join("json_extract(body, ?)" for _ in paths) or "NULL"
        sql = f"SELECT {columns} FROM docs INDEXED BY docs_by_parent WHERE kind = ? AND parent = ?"
        return self._conn().execute(sql, (*paths, kind, parent)).fetchall()

    def count(self, kind: str, *, parent: str, field: str, not_in: tuple[str, ...]) -> int:
        """How many documents of a kind under `parent` have their JSON `field` (a path such as
        `$.meta.state`) outside `not_in`: counted by SQLite, without decoding any document."""
        marks = ", ".join("?" for _ in not_in) or "NULL"
        sql = (f"SELECT COUNT(*) FROM docs INDEXED BY docs_by_parent WHERE kind = ? AND parent = ? "
               f"AND coalesce(json_extract(body, ?), '') NOT IN ({marks})")
        return int(self._conn().execute(sql, (kind, parent, field, *not_in)).fetchone()[0])

    _STATE = "state"  # the column docs_state indexes (a copy of meta.state)

    def by_state(
        self, kind: str, states: tuple[str, ...], *, parent: str | None = None, limit: int | None = None
    ) -> DocList:
        """Documents of a kind whose `meta.state` is one of `states` (of one parent, if given),
        ordered by key: an indexed query, so it costs what it returns, not the size of the kind."""
        marks = ", ".join("?" for _ in states)
        sql = (f"SELECT {self._COLS} FROM docs INDEXED BY docs_state "
               f"WHERE kind = ? AND {self._STATE} IN ({marks})")
        args: list[Any] = [kind, *states]
        if parent is not None:
            sql += " AND parent = ?"
            args.append(parent)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [self._doc(r) for r in self._conn().execute(sql, args).fetchall()]

    def any_state(self, kind: str, states: tuple[str, ...], *, parent: str) -> bool:
        """Whether any document of a kind under `parent` is in one of `states` (one index probe)."""
        marks = ", ".join("?" for _ in states)
        sql = (f"SELECT 1 FROM docs INDEXED BY docs_state WHERE kind = ? AND {self._STATE} IN ({marks}) "
               "AND parent = ? LIMIT 1")
        return self._conn().execute(sql, (kind, *states, parent)).fetchone() is not None

    def count_states(self, kind: str, states: tuple[str, ...], *, parent: str) -> int:
        """How many documents of a kind under `parent` are in one of `states` (index entries counted)."""
        marks = ", ".join("?" for _ in states)
        sql = (f"SELECT COUNT(*) FROM docs INDEXED BY docs_state WHERE kind = ? AND {self._STATE} IN ({marks}) "
               "AND parent = ?")
        return int(self._conn().execute(sql, (kind, *states, parent)).fetchone()[0])

    def max_field(self, kind: str, *, parent: str, field: str) -> float | None:
        """The largest numeric JSON `field` (a path such as `$.meta.stateTime`) under `parent`."""
        sql = "SELECT MAX(json_extract(body, ?)) FROM docs INDEXED BY docs_by_parent WHERE kind = ? AND parent = ?"
        row = self._conn().execute(sql, (field, kind, parent)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def read_data(self, kind: str, key: str) -> bytes | None:
        row = self._conn().execute("SELECT data FROM docs WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    # -- writes ---------------------------------------------------------------------------
    def _check(self, kind: str, key: str, expect: str | None) -> Doc | None:
        current = self.get(kind, key)
        if expect is not None:
            if expect == ABSENT:
                if current is not None:
                    raise StaleWrite(kind, key, current.etag)
            elif current is None or etag.strip(expect) != current.etag:
                raise StaleWrite(kind, key, current.etag if current else None)
        return current

    def put(
        self,
        kind: str,
        key: str,
        body: dict[str, Any],
        *,
        parent: str = "",
        data: bytes | None = None,
        expect: str | None = None,
        keep_etag: bool = False,
    ) -> Doc:
        """Create or replace a document; returns it with its new etag and timestamps.

        `keep_etag`: the existing document keeps its etag (state the service itself moves, such
        as an autoscale evaluation, that is no new version of what a client wrote)."""
        text = json.dumps(body, separators=(",", ":"))
        with self.transaction():
            current = self._check(kind, key, expect)
            now = clock.now()
            tag = current.etag if keep_etag and current is not None else etag.new()
            created = current.created if current else now
            conn = self._conn()
            meta = body.get("meta")
            state = meta.get("state") if isinstance(meta, dict) else None
            state = state if isinstance(state, str) else None
            if data is None and current is not None:
                conn.execute(
                    "UPDATE docs SET parent = ?, etag = ?, updated = ?, body = ?, state = ? WHERE kind = ? AND key = ?",
                    (parent, tag, now, text, state, kind, key),
                )
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO docs (kind, key, parent, etag, created, updated, body, data, state)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (kind, key, parent, tag, created, now, text, data, state),
                )
        return Doc(kind, key, parent, tag, created, now, json.loads(text))

    def update(
        self, kind: str, key: str, change: Callable[[dict[str, Any]], dict[str, Any]], *, expect: str | None = None
    ) -> Doc | None:
        """Atomically replace a document's body with `change(body)`; None if it does not exist."""
        with self.transaction():
            current = self._check(kind, key, expect)
            if current is None:
                return None
            return self.put(kind, key, change(current.body), parent=current.parent)

    def delete(self, kind: str, key: str, *, expect: str | None = None) -> bool:
        with self.transaction():
            self._check(kind, key, expect)
            cur = self._conn().execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key))
            return cur.rowcount > 0

    def delete_prefix(self, prefix: str, kind: str | None = None) -> int:
        """Delete every document (of every kind, or of `kind`) whose key starts with `prefix`."""
        sql = "DELETE FROM docs WHERE key >= ? AND key < ?"
        args: list[Any] = [prefix, prefix + "\U0010ffff"]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        with self.transaction():
            return self._conn().execute(sql, args).rowcount
