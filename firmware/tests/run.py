"""Run firmware tests on MicroPython (or CPython): ``micropython run.py [test_module ...]``.

Every ``test_*`` function of each module runs, and every ``test_*`` method of each class named
``Test*`` (a fresh instance per method, with ``setUp``/``tearDown`` when it has them); a summary line
``<passed> passed, <failed> failed`` is printed and the exit status is 1 when any test failed or a
module could not be imported.
"""

import sys

DEFAULT_MODULES = ("test_link",)


def run_module(name):
    """Run one module's tests; return ``(passed, failed)``."""
    try:
        module = __import__(name)
    except Exception as error:  # an import error is a failure to report, not a crash of the runner
        print("FAIL", name, "(import):", repr(error))
        return 0, 1
    passed = 0
    failed = 0
    for attribute in sorted(dir(module)):
        test = getattr(module, attribute)
        if attribute.startswith("test_") and callable(test):
            ok = run_one(name + "." + attribute, test)
        elif attribute.startswith("Test") and isinstance(test, type):
            ok, bad = run_class(name + "." + attribute, test)
            passed += ok
            failed += bad
            continue
        else:
            continue
        if ok:
            passed += 1
        else:
            failed += 1
    return passed, failed


def run_class(name, cls):
    """Run each ``test_*`` method on a fresh instance, between ``setUp`` and ``tearDown``."""
    passed = 0
    failed = 0
    for attribute in sorted(dir(cls)):
        if not attribute.startswith("test_"):
            continue

        def test(attribute=attribute):
            instance = cls()
            if hasattr(instance, "setUp"):
                instance.setUp()
            try:
                getattr(instance, attribute)()
            finally:
                if hasattr(instance, "tearDown"):
                    instance.tearDown()

        if run_one(name + "." + attribute, test):
            passed += 1
        else:
            failed += 1
    return passed, failed


def run_one(name, test):
    """Run one test; print its outcome; return True when it passed."""
    try:
        test()
    except Exception as error:
        print("FAIL", name + ":", repr(error))
        if hasattr(sys, "print_exception"):
            sys.print_exception(error)
        return False
    print("ok  ", name)
    return True


def main(names):
    passed = 0
    failed = 0
    for name in names:
        ok, bad = run_module(name)
        passed += ok
        failed += bad
    print(passed, "passed,", failed, "failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or DEFAULT_MODULES))
