"""Progress on stderr: a one-line bar (wells done, rate, time left) on a terminal, plain lines otherwise."""

from __future__ import annotations

import shutil
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
        self._last = 0.0
        if self.total and not self.tty:
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
        r = self.rate()
        left = (self.total - self.done) / r if r > 0 else 0.0
        verdict = rec.get("verdict") or "error"
        if self.tty:
            now = time.monotonic()
            if now - self._last < 0.1 and self.done < self.total:
                return
            self._last = now
            width = shutil.get_terminal_size((80, 20)).columns
            stats = f" {self.done}/{self.total} wells  {r:.2f} wells/s  {_hms(left)} left "
            barw = max(10, min(40, width - len(stats) - 4))
            fill = int(barw * self.done / max(1, self.total))
            bar = "█" * fill + "░" * (barw - fill)
            try:
                self.stream.write(f"\r[{bar}]{stats}"[: width - 1])
                self.stream.flush()
            except (OSError, ValueError):
                pass
        else:
            msg = f" ({rec['error']})" if rec.get("error") else ""
            if not msg and rec.get("part_errors"):  # partial: name the unreadable part
                from ..report.tables import PART_LABELS

                msg = " (partial: " + ", ".join(f"{PART_LABELS.get(k, k)} unreadable" for k in rec["part_errors"]) + ")"
            self._line(
                f"{self.label}: {self.done}/{self.total} {rec.get('well')} {rec.get('compound_id', '')} "
                f"{verdict}{msg} [{r:.2f} wells/s, {_hms(left)} left]"
            )

    def close(self) -> None:
        if self.tty and self.total:
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
