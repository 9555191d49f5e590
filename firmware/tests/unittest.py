"""``micropython -m unittest [test_module ...]`` for the firmware's tests on the MicroPython unix port.

micropython-lib's ``unittest`` is not installable from PyPI here (its packages there have no build
files), and the unix port has none built in. This module takes its place with what the firmware's
tests use: :class:`TestCase` with the common assertions, and a command line that runs the named
modules (every ``test_*.py`` beside this file when none is named) through ``run.py``: every
``test_*`` function and every ``test_*`` method of each ``Test*`` class, ``setUp``/``tearDown``
around each. It prints ``<passed> passed, <failed> failed`` and exits 1 on any failure.

Run it with the firmware and its tests on the path::

    MICROPYPATH=firmware:firmware/tests micropython -m unittest test_coins test_guard
"""

import os
import sys

import run


class SkipTest(Exception):
    """Not used by the firmware's tests (a skip would hide a test); here so imports of it work."""


class _Raises:
    def __init__(self, expected):
        self.expected = expected
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, _traceback):
        if kind is None:
            raise AssertionError(f"{self.expected.__name__} not raised")
        if not issubclass(kind, self.expected):
            return False
        self.exception = value
        return True


class TestCase:
    """The assertions the firmware's tests use; ``setUp`` and ``tearDown`` are called by the runner."""

    def setUp(self):
        pass

    def tearDown(self):
        pass

    def assertEqual(self, first, second, msg=None):
        if not first == second:
            raise AssertionError(msg or f"{first!r} != {second!r}")

    def assertNotEqual(self, first, second, msg=None):
        if first == second:
            raise AssertionError(msg or f"{first!r} == {second!r}")

    def assertTrue(self, value, msg=None):
        if not value:
            raise AssertionError(msg or f"{value!r} is not true")

    def assertFalse(self, value, msg=None):
        if value:
            raise AssertionError(msg or f"{value!r} is not false")

    def assertIn(self, member, container, msg=None):
        if member not in container:
            raise AssertionError(msg or f"{member!r} not in {container!r}")

    def assertIsNone(self, value, msg=None):
        if value is not None:
            raise AssertionError(msg or f"{value!r} is not None")

    def assertRaises(self, expected, function=None, *args, **kwargs):
        context = _Raises(expected)
        if function is None:
            return context
        with context:
            function(*args, **kwargs)
        return context


def test_modules():
    """The ``test_*`` modules beside this file, sorted."""
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    return sorted(name[:-3] for name in os.listdir(here) if name.startswith("test_") and name.endswith(".py"))


def main(names=None):
    return run.main(names or test_modules())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
