"""`verify plate --scheduler`: wells checked on a Dask distributed cluster (a LocalCluster of two worker
processes started here), with the same records as the local pool, the store written by the coordinator,
resume, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify.cli import main

distributed = pytest.importorskip("distributed", reason="the dask extra (distributed) is not installed")

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_spectra"
WELLS = [  # (well, sample folder); the last has an NMR path that does not exist (an error part)
    ("A1", "benzyl_diazepane"),
    ("A2", "boc_benzyl_diazepane"),
    ("B1", "fail_wrong_compound"),
    ("B2", "methoxybenzyl_diazepane"),
]


def _map(tmp: Path, wells: list[tuple[str, str]], broken: str | None = None) -> Path:
    lines = ["well,compound_id,smiles,nmr,ms"]
    for well, sample in wells:
        smi = (SAMPLES / sample / "compound.smi").read_text().split()[0]
        nmr = SAMPLES / sample / "nmr" / "1"
        if well == broken:
            nmr = tmp / "no_such_run" / "1"
        lines.append(f"{well},{sample},{smi},{nmr},{SAMPLES / sample / 'ms.mzML'}")
    p = tmp / "plate.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c.scheduler_address


def _wells(rep: Path) -> dict[str, dict]:
    return {w["well"]: w for w in json.loads((rep / "results.json").read_text())["wells"]}


def _comparable(w: dict) -> dict:
    """A well's record without what differs between runs (timings, absolute paths sent to the workers)."""
    r = json.loads(json.dumps(w))
    for k in ("check_s", "render_s", "created"):
        r.pop(k, None)
    res = r.get("result") or {}
    for part in ("nmr", "ms"):
        if res.get(part):
            res[part].pop("source", None)
            res[part].pop("timings", None)
            (res[part].get("processing") or {}).pop("timings", None)
    return {
        "verdict": r["verdict"],
        "status": r["status"],
        "error": r.get("error"),
        "findings": [(f["severity"], f["code"]) for f in res.get("findings", [])],
        "peaks": [(p["ppm"], p["integral"], p["status"]) for p in (res.get("nmr") or {}).get("peaks", [])],
    }


def test_cluster_gives_the_local_pool_records(tmp_path, cluster, capsys):
    m = _map(tmp_path, WELLS, broken="B2")
    assert main(["plate", str(m), "-o", str(tmp_path / "local"), "--workers", "1", "-q"]) == 0
    assert main(["plate", str(m), "-o", str(tmp_path / "dask"), "--scheduler", cluster, "-q"]) == 0
    out = capsys.readouterr().out
    assert "4 wells" in out
    local, dask = _wells(tmp_path / "local"), _wells(tmp_path / "dask")
    assert sorted(dask) == ["A1", "A2", "B1", "B2"]
    for w in local:
        assert _comparable(dask[w]) == _comparable(local[w]), w
    assert dask["A1"]["verdict"] == "consistent" and dask["B1"]["verdict"] == "inconsistent"
    assert dask["B2"]["status"] == "partial" and "no such" in json.dumps(dask["B2"]["part_errors"])
    meta = json.loads((tmp_path / "dask" / "results.json").read_text())["plate"]
    assert meta["scheduler"] == cluster and meta["workers"] == 2
    # the coordinator wrote the store and the per-well pages
    assert (tmp_path / "dask" / "results.sqlite").is_file() and (tmp_path / "dask" / "wells" / "A2.html").is_file()


def test_cluster_run_resumes_from_the_store(tmp_path, cluster, capsys, monkeypatch):
    m = _map(tmp_path, WELLS[:2])
    monkeypatch.setenv("VERIFY_DASK_SCHEDULER", cluster)  # the environment variable instead of the option
    assert main(["plate", str(m), "-o", str(tmp_path / "r"), "-q"]) == 0
    assert "(2 checked, 0 unchanged)" in capsys.readouterr().out
    m = _map(tmp_path, WELLS[:3])  # a well added: only it is checked
    assert main(["plate", str(m), "-o", str(tmp_path / "r"), "-q"]) == 0
    assert "(1 checked, 2 unchanged)" in capsys.readouterr().out
    assert sorted(_wells(tmp_path / "r")) == ["A1", "A2", "B1"]


def test_interrupted_client_keeps_what_arrived_and_cancels_the_rest(tmp_path, cluster):
    from verify.plate.cli import build_jobs
    from verify.plate.dask_run import run_jobs_dask
    from verify.plate.map import read_plate_map

    jobs = build_jobs(read_plate_map(_map(tmp_path, WELLS)), None, None, None, 5.0)
    got = []

    def on_done(rec):
        got.append(rec["well"])
        raise KeyboardInterrupt  # the chemist's Ctrl-C after the first well

    with pytest.raises(KeyboardInterrupt):
        run_jobs_dask(jobs, cluster, on_done)
    assert len(got) == 1
    # the cluster is free again: a new run of the same wells goes through
    done = []
    assert run_jobs_dask(jobs, cluster, lambda rec: done.append(rec["well"])) == 2
    assert sorted(done) == ["A1", "A2", "B1", "B2"]


def test_unreachable_scheduler_is_a_usage_error(tmp_path, capsys, monkeypatch):
    import verify.plate.dask_run as dr

    monkeypatch.setattr(dr, "CONNECT_TIMEOUT_S", 2)
    m = _map(tmp_path, WELLS[:1])
    assert main(["plate", str(m), "-o", str(tmp_path / "r"), "--scheduler", "tcp://127.0.0.1:9", "-q"]) == 64
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err[0]
    assert "Traceback" not in err[0]
