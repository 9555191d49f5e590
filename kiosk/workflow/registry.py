"""One class per step, found by the classes themselves: no list of them to keep.

A package of step classes (the states, the screens) imports every module in it with
:func:`import_modules`; :func:`one_per_step` then takes each subclass of the base that names its
``step`` in its own body. A step with no class, or with two, is an error when the package is
imported, before any session runs.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from typing import TypeVar

from kiosk.workflow.steps import Step

T = TypeVar("T")


class NotOnePerStep(TypeError):
    """A step has no class of the kind, or more than one."""


def import_modules(package: str, path: Iterable[str]) -> None:
    """Import every module of ``package`` (its name and ``__path__``)."""
    for module in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{module.name}")


def one_per_step(base: type[T], kind: str) -> dict[Step, type[T]]:
    """The subclasses of ``base`` that name their ``step``, by step, in the steps' order."""
    found: dict[Step, list[type[T]]] = {}
    for cls in subclasses(base):
        step = vars(cls).get("step")
        if isinstance(step, Step):
            found.setdefault(step, []).append(cls)
    problems = [f"no {kind} for {step.value}" for step in Step if step not in found]
    problems += [
        f"{len(classes)} {kind}s for {step.value}: {', '.join(c.__qualname__ for c in classes)}"
        for step, classes in found.items()
        if len(classes) > 1
    ]
    if problems:
        raise NotOnePerStep("; ".join(problems))
    return {step: found[step][0] for step in Step}


def subclasses(base: type[T]) -> Iterator[type[T]]:
    """Every subclass of ``base``, however deep, once."""
    seen: set[type[T]] = set()
    stack = list(base.__subclasses__())
    while stack:
        cls = stack.pop(0)
        if cls not in seen:
            seen.add(cls)
            yield cls
            stack.extend(cls.__subclasses__())
