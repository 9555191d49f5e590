"""A printer driver watching a spool directory (:mod:`hardware.printer.spool`), played by a thread: the
one part of the spool printer not run for real here (a store printer without CUPS)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from support.cups_jobs import pdf_pages


class Driver(threading.Thread):
    """A printer driver watching the spool, in the mode a test gives it."""

    def __init__(self, spool: Path, outputs: Path, mode: str) -> None:
        super().__init__(daemon=True)
        self.spool, self.outputs, self.mode = spool, outputs, mode
        self.taken: list[str] = []
        self.done = threading.Event()
        # mode "pages": a page every ``seconds_per_page``, a jam after ``jam_after`` pages (None: none)
        self.seconds_per_page = 0.5
        self.jam_after: int | None = None
        self.pages_out = 0  # pages put out over the test, whole jobs or not

    def run(self) -> None:
        while not self.done.wait(0.02):
            for job_file in sorted(self.spool.glob("job-*.pdf")):
                self.handle(job_file.name.removeprefix("job-").removesuffix(".pdf"))

    def status(
        self,
        name: str,
        state: str,
        pages_done: int = 0,
        reasons: tuple[str, ...] = (),
        text: str | None = None,
    ) -> None:
        hidden = self.spool / f".status-{name}"
        hidden.write_text(
            text
            if text is not None
            else json.dumps({"state": state, "pages_done": pages_done, "reasons": list(reasons)})
        )
        os.replace(hidden, self.spool / f"job-{name}.status")

    def until_cancelled(self, name: str, pages_done: int = 0) -> None:
        while not (self.spool / f"job-{name}.cancel").exists():
            if self.done.wait(0.02):
                return
        self.status(name, "cancelled", pages_done)

    def handle(self, name: str) -> None:
        self.status(name, "processing")
        try:
            os.replace(self.spool / f"job-{name}.pdf", self.outputs / f"{name}.pdf")
        except FileNotFoundError:  # cancelled before it was taken
            self.status(name, "cancelled")
            return
        self.taken.append(name)
        mode = self.mode
        if mode == "pages":
            self.page_by_page(name)
        elif mode in ("ok", "slow"):
            if mode == "slow":
                self.done.wait(1.0)
            self.status(name, "completed", pdf_pages(self.outputs / f"{name}.pdf"))
        elif mode == "aborted":
            self.status(name, "aborted")
        else:
            self.status(
                name,
                "processing",
                *{
                    "paper-out": (0, ("media-empty-error",)),
                    "jam-after-1": (1, ("media-jam-error",)),
                    "offline": (0, ("offline-report",)),
                    "low-paper": (0, ("media-low-warning",)),
                    "hang": (0, ()),
                }.get(mode, (0, ())),
                text={
                    "garbage": "not json {",
                    "bad-state": '{"state": "printed"}',
                    "bad-pages": '{"state": "processing", "pages_done": -1}',
                    "huge": "{" + " " * 5000 + "}",
                }.get(mode),
            )
            if mode == "low-paper":
                self.done.wait(0.5)
                self.status(name, "completed", 2)
                return
            self.until_cancelled(name)

    def page_by_page(self, name: str) -> None:
        """Mode ``pages``: the pages come out one at a time, each counted as it does; a jam stops
        it after ``jam_after`` pages, a cancel between two pages."""
        total = pdf_pages(self.outputs / f"{name}.pdf")
        for done in range(total):
            if self.jam_after is not None and done >= self.jam_after:
                self.status(name, "processing", done, ("media-jam-error",))
                self.until_cancelled(name, done)
                return
            if self.done.wait(self.seconds_per_page) or (self.spool / f"job-{name}.cancel").exists():
                self.status(name, "cancelled", done)
                return
            self.pages_out += 1
            self.status(name, "processing", done + 1)
        self.status(name, "completed", total)
