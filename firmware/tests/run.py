"""Run firmware tests on MicroPython (or CPython): ``micropython run.py [test_module ...]``.

Every ``test_*`` function of each module runs; a summary line ``<passed> passed, <failed> failed`` is
printed and the exit status is 1 when any test failed or a module could not be imported.
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
        if not attribute.startswith("test_") or not callable(test):
            continue
        try:
            test()
        except Exception as error:
            failed += 1
            print("FAIL", name + "." + attribute + ":", repr(error))
            if hasattr(sys, "print_exception"):
                sys.print_exception(error)
        else:
            passed += 1
            print("ok  ", name + "." + attribute)
    return passed, failed


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
