"""The plate results store: an embedded SQLite database (default REPORT_DIR/results.sqlite).

One row per (plate, well, input hash) with the well's full result JSON and its pre-rendered report
fragment; each finished well is written in its own transaction, so an interrupted run loses nothing
already finished and a re-run skips wells whose inputs hash the same. The hash covers the size and
mtime of every data file, so a well (error or partial) whose file is replaced or repaired is checked
again; an unchanged unreadable file is not re-read.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import CannotCreateError, InputError, OutputIOError, VerifyError
from ..report.atomic import output_error

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS plates (
    plate TEXT PRIMARY KEY,
    map_path TEXT,
    meta_json TEXT,
    updated_at REAL
);
CREATE TABLE IF NOT EXISTS wells (
    plate TEXT NOT NULL,
    well TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    compound_id TEXT,
    smiles TEXT,
    status TEXT NOT NULL,          -- ok | partial (one data file unreadable) | error
    verdict TEXT NOT NULL,         -- consistent | suspicious | inconsistent | error
    error TEXT,
    result_json TEXT,              -- the single-compound contract (schema verify/3), NULL for errors
    fragment TEXT,                 -- the well's pre-rendered HTML section (figures inline)
    record_json TEXT,              -- well metadata: extra map columns, data paths, notes, part errors
    elapsed_s REAL,
    finished_at REAL,
    PRIMARY KEY (plate, well, input_hash)
);
"""


# how long a connection waits for another run's lock (busy_timeout), and how often the few statements
# SQLite does not retry itself (the journal-mode switch, a schema write racing another run) are retried
BUSY_TIMEOUT_S = 30.0
_LOCK_RETRIES = 50
_LOCK_PAUSE_S = 0.05


def _store_error(exc: sqlite3.Error, path: Path) -> VerifyError:
    """One-line error for a failed store operation: exit 73 when the store cannot be created or written
    at all (read-only, no permission, no folder), 74 for a disk full or an I/O error part-way."""
    msg = str(exc)
    low = msg.lower()
    if "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        return CannotCreateError(f"cannot create or write the results store ({msg})", path)
    if "disk" in low or "i/o" in low or "full" in low or isinstance(exc, sqlite3.OperationalError):
        return OutputIOError(f"cannot write the results store ({msg}); finished wells stay stored", path)
    return InputError(f"results store unusable ({msg})", path)


def _locked(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


class ResultStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(exc, self.path.parent, "results store folder") from None
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from None
        try:
            self._create()
        except sqlite3.DatabaseError as exc:
            self.close()
            if isinstance(exc, sqlite3.OperationalError):
                raise _store_error(exc, self.path) from None
            raise InputError(f"results store unusable ({exc})", self.path) from None

    def _create(self) -> None:
        """Schema and journal mode, safe when two runs open a fresh store at the same moment.

        The busy timeout is set first so every later statement waits for the other run's lock. The switch
        to WAL and the schema transaction can still fail at once with "database is locked" (SQLite does not
        call the busy handler where waiting could deadlock), so they are retried; the schema is written in
        a BEGIN IMMEDIATE transaction (write lock taken up front) with CREATE ... IF NOT EXISTS.
        """
        self.conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        self._retry(lambda: self.conn.execute("PRAGMA journal_mode=WAL").fetchone())
        self.conn.execute("PRAGMA synchronous=NORMAL")

        def schema():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _DDL.split(";"):
                    if stmt.strip():
                        self.conn.execute(stmt)
                self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

        self._retry(schema)

    @staticmethod
    def _retry(fn):
        for attempt in range(_LOCK_RETRIES):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _locked(exc) or attempt == _LOCK_RETRIES - 1:
                    raise
                time.sleep(_LOCK_PAUSE_S * (1 + attempt % 5))
        return None

    @contextmanager
    def _writing(self):
        """One transaction; a failure (disk full, I/O error, read-only) is a one-line error, and
        what earlier transactions stored (finished wells) stays."""
        try:
            with self.conn:
                yield self.conn
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from None

    def _select(self, sql: str, params: tuple) -> list[tuple]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from None

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- plates
    def put_plate(self, plate: str, map_path: str, meta: dict) -> None:
        with self._writing():
            self.conn.execute(
                "INSERT INTO plates VALUES (?, ?, ?, ?) ON CONFLICT(plate) DO UPDATE SET "
                "map_path=excluded.map_path, meta_json=excluded.meta_json, updated_at=excluded.updated_at",
                (plate, map_path, json.dumps(meta), time.time()),
            )

    # -- wells
    def hashes(self, plate: str) -> dict[str, str]:
        """{well: input_hash} of the results already stored for this plate."""
        return {w: h for w, h in self._select("SELECT well, input_hash FROM wells WHERE plate=?", (plate,))}

    def put_well(self, plate: str, rec: dict) -> None:
        """Store one finished well in its own transaction (replacing its results for other inputs)."""
        meta = {k: rec.get(k) for k in ("extra", "sources", "notes", "part_errors", "check_s", "render_s")}
        with self._writing():
            self.conn.execute(
                "DELETE FROM wells WHERE plate=? AND well=? AND input_hash<>?", (plate, rec["well"], rec["input_hash"])
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO wells VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    plate,
                    rec["well"],
                    rec["input_hash"],
                    rec.get("compound_id", ""),
                    rec.get("smiles", ""),
                    rec.get("status", "error"),
                    rec.get("verdict") or "error",
                    rec.get("error"),
                    rec.get("result_json"),
                    rec.get("fragment"),
                    json.dumps(meta, default=str),
                    rec.get("elapsed_s"),
                    time.time(),
                ),
            )

    def get_wells(self, plate: str, wanted: dict[str, str] | None = None) -> dict[str, dict]:
        """Stored records of a plate; with `wanted` ({well: hash}) only those whose hash matches."""
        cur = self._select(
            "SELECT well, input_hash, compound_id, smiles, status, verdict, error, result_json, fragment, "
            "record_json, elapsed_s, finished_at FROM wells WHERE plate=?",
            (plate,),
        )
        out = {}
        for row in cur:
            (well, h, cid, smi, status, verdict, err, rj, frag, meta, el, fin) = row
            if wanted is not None and wanted.get(well) != h.split("!", 1)[0]:
                continue  # ("<hash>!retry": a transient error, shown now but re-tried next run)
            m = json.loads(meta) if meta else {}
            out[well] = {
                "well": well,
                "input_hash": h,
                "compound_id": cid,
                "smiles": smi,
                "status": status,
                "verdict": verdict,
                "error": err,
                "result": json.loads(rj) if rj else None,
                "fragment": frag,
                "extra": m.get("extra") or {},
                "sources": m.get("sources") or {},
                "notes": m.get("notes") or [],
                "part_errors": m.get("part_errors") or {},
                "check_s": m.get("check_s"),
                "render_s": m.get("render_s"),
                "elapsed_s": el,
                "finished_at": fin,
            }
        return out

    def delete_wells(self, plate: str, wells: list[str]) -> None:
        with self._writing():
            self.conn.executemany("DELETE FROM wells WHERE plate=? AND well=?", [(plate, w) for w in wells])
