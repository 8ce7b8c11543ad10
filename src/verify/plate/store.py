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
from pathlib import Path

from ..errors import InputError

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
    result_json TEXT,              -- the single-compound contract (schema verify/1), NULL for errors
    fragment TEXT,                 -- the well's pre-rendered HTML section (figures inline)
    record_json TEXT,              -- well metadata: extra map columns, data paths, notes, part errors
    elapsed_s REAL,
    finished_at REAL,
    PRIMARY KEY (plate, well, input_hash)
);
"""


class ResultStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(self.path), timeout=30.0)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            with self.conn:
                self.conn.executescript(_DDL)
                self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise InputError(f"results store unusable ({exc})", self.path) from None
        except OSError as exc:
            raise InputError(f"cannot create the results store ({exc.strerror})", self.path) from None

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
        with self.conn:
            self.conn.execute(
                "INSERT INTO plates VALUES (?, ?, ?, ?) ON CONFLICT(plate) DO UPDATE SET "
                "map_path=excluded.map_path, meta_json=excluded.meta_json, updated_at=excluded.updated_at",
                (plate, map_path, json.dumps(meta), time.time()),
            )

    # -- wells
    def hashes(self, plate: str) -> dict[str, str]:
        """{well: input_hash} of the results already stored for this plate."""
        cur = self.conn.execute("SELECT well, input_hash FROM wells WHERE plate=?", (plate,))
        return {w: h for w, h in cur.fetchall()}

    def put_well(self, plate: str, rec: dict) -> None:
        """Store one finished well in its own transaction (replacing its results for other inputs)."""
        meta = {k: rec.get(k) for k in ("extra", "sources", "notes", "part_errors", "check_s", "render_s")}
        with self.conn:
            self.conn.execute("DELETE FROM wells WHERE plate=? AND well=? AND input_hash<>?",
                              (plate, rec["well"], rec["input_hash"]))
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
        cur = self.conn.execute(
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
        with self.conn:
            self.conn.executemany("DELETE FROM wells WHERE plate=? AND well=?", [(plate, w) for w in wells])
