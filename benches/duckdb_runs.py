"""The DuckDB reference's runs, for benches/run.py: how much it spilled, what settings
it used, and the record of its success or failure (issue #13).

At national size the reference may need more memory than `--duckdb-memory-limit`; it
then spills to its temp_directory, whose largest size during the run is sampled here. If
it fails all the same (exit code not 0), the failure is recorded with the end of its
stderr, and run.py goes on without the cross-check.
"""

import shlex
import statistics
import threading
from pathlib import Path

SETTINGS = "DuckDB memory_limit"  # how catalogue.py's settings line begins
TAIL = 15                         # lines of stderr kept of a failed run


class DirPeak:
    """The largest size a folder reaches while in the `with` block, sampled every 0.5 s."""

    def __init__(self, path: Path):
        self.path, self.peak_bytes = path, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def size(self) -> int:
        """Bytes of the files under the folder now (0 if it is absent)."""
        total = 0
        for f in self.path.rglob("*"):
            try:
                total += f.stat().st_size if f.is_file() else 0
            except OSError:  # deleted between listing and stat
                pass
        return total

    def _sample(self) -> None:
        while True:
            self.peak_bytes = max(self.peak_bytes, self.size())
            if self._done.wait(0.5):
                return

    def __enter__(self) -> "DirPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


def settings_line(stdout: str) -> str | None:
    """catalogue.py's line "DuckDB memory_limit …, temp_directory …, threads N"."""
    return next((line for line in stdout.splitlines() if line.startswith(SETTINGS)), None)


def failure(run: dict, limits: dict) -> dict:
    """The record of a failed run: exit status, time, peak, the end of its stderr."""
    return {"failed": {"returncode": run["returncode"], "cmd": shlex.join(run["cmd"]),
                       "stderr_tail": run["stderr"].strip().splitlines()[-TAIL:]},
            "seconds_to_failure": run["seconds"], "peak_mib": run["peak_mib"],
            "spill_peak_mib": run["spill_peak_mib"],
            "settings": settings_line(run["stdout"]), **limits}


def success(results: list[dict], sql: list[float], limits: dict, csv: str) -> dict:
    """Medians of the times, maxima of peak and spill, settings and notes of the last run."""
    settings = settings_line(results[-1]["stdout"])
    return {"seconds": statistics.median(r["seconds"] for r in results),
            "runs_seconds": [r["seconds"] for r in results],
            "sql_seconds": statistics.median(sql),
            "peak_mib": max(r["peak_mib"] for r in results),
            "spill_peak_mib": max(r["spill_peak_mib"] for r in results),
            "settings": settings, **limits,
            "notes": [line for line in results[-1]["stdout"].splitlines()
                      if not line.startswith(tuple("0123456789")) and line != settings],
            "csv": csv}
