"""Progress on stderr: tqdm's one-line bar (wells done, rate, time left) on a terminal, plain lines otherwise
(a log file or a LIMS job runner gets one readable line per well, never carriage returns)."""

from __future__ import annotations

import sys
import time


def _hms(s: float) -> str:
    s = max(0, int(round(s)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class Progress:
    def __init__(self, total: int, stream=None, tty: bool | None = None, label: str = "plate"):
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.label = label
        self.t0 = time.monotonic()
        self._bar = None
        if self.total and self.tty:
            from tqdm import tqdm  # noqa: PLC0415 - only a terminal needs it

            self._bar = tqdm(
                total=self.total,
                file=self.stream,
                unit="well",
                desc=self.label,
                dynamic_ncols=True,
                mininterval=0.1,
                bar_format="{desc}: [{bar}] {n_fmt}/{total_fmt} wells  {rate_fmt}  {remaining} left{postfix}",
            )
        elif self.total:
            self._line(f"{self.label}: checking {self.total} well{'s' if self.total != 1 else ''}")

    def _line(self, s: str) -> None:
        try:
            self.stream.write(s + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def rate(self) -> float:
        el = time.monotonic() - self.t0
        return self.done / el if el > 0 else 0.0

    def update(self, rec: dict) -> None:
        self.done += 1
        verdict = rec.get("verdict") or "error"
        if self._bar is not None:  # tqdm keeps its own rate and time left
            self._bar.set_postfix_str(f"{rec.get('well')} {verdict}", refresh=False)
            self._bar.update(1)
        else:
            r = self.rate()
            left = (self.total - self.done) / r if r > 0 else 0.0
            msg = f" ({rec['error']})" if rec.get("error") else ""
            if not msg and rec.get("part_errors"):  # partial: name the unreadable part
                from ..report.tables import PART_LABELS

                msg = " (partial: " + ", ".join(f"{PART_LABELS.get(k, k)} unreadable" for k in rec["part_errors"]) + ")"
            self._line(
                f"{self.label}: {self.done}/{self.total} {rec.get('well')} {rec.get('compound_id', '')} "
                f"{verdict}{msg} [{r:.2f} wells/s, {_hms(left)} left]"
            )

    def close(self) -> None:
        if self._bar is not None:
            try:
                self._bar.close()
            except (OSError, ValueError):  # the terminal went away
                pass
