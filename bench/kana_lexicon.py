"""``python -m bench.kana_lexicon``: the kana keyboard's conversion lexicon (``kiosk/kana``) made
from the installed SKK dictionaries (the first start after they are installed or updated) and
read back from its cache (every other start), each in a fresh process: wall time, the growth of
the process's peak resident memory, the cache's size, and a conversion's lookup time. Figures to
read, not assertions."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk.kana.lexicon import CACHE_NAME

LOOKUPS = 1000
READING = "とうきょうとちよだくちよだ"


def measure(cache: str) -> None:
    """In this process: one load of the lexicon with ``cache``, printed as one line."""
    from kiosk.kana import Field, load_lexicon

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    lexicon = load_lexicon(cache=Path(cache))
    took = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    started = time.perf_counter()
    for _ in range(LOOKUPS):
        lexicon.candidates(READING[: lexicon.longest_known(READING)], Field.ADDRESS)
    lookup = (time.perf_counter() - started) / LOOKUPS * 1e6
    print(f"{len(lexicon)} readings, {took * 1000:.0f} ms, peak RSS +{grown:.0f} MiB, lookup {lookup:.0f} µs")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kana-bench-") as cache:
        for what in ("made from the dictionaries", "read from the cache"):
            done = subprocess.run(
                [sys.executable, "-m", "bench.kana_lexicon", "--measure", cache],
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"kana lexicon {what}: {done.stdout.strip()}")
        print(f"cache: {(Path(cache) / CACHE_NAME).stat().st_size / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(sys.argv[2])
    else:
        main()
