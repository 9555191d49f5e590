"""What a console page declares about itself: where it is, its title, who reads it and who
changes through it. The guard (:mod:`center.console.access`) enforces it; a page's module in
``pages/`` holds one :class:`Page` as ``PAGE`` and its routes as ``router``."""

from __future__ import annotations

from dataclasses import dataclass

from center.console.roles import NOBODY, Role, may_change


@dataclass(frozen=True)
class Page:
    slug: str  # its template is ``templates/<slug>.html``
    path: str  # its address, and the menu's link
    title: tuple[str, str]  # Japanese, English
    readers: frozenset[Role]  # who may GET it
    changers: frozenset[Role] = NOBODY  # who may POST to it (never an auditor)
    order: int = 50  # its place in the menu
    in_menu: bool = True

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"page {self.slug}: its path must start with /")
        if not self.changers <= self.readers:
            raise ValueError(f"page {self.slug}: whoever changes through it must read it")
        if not all(may_change(role) for role in self.changers):
            raise ValueError(f"page {self.slug}: an auditor changes nothing")
