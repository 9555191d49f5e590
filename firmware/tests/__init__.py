"""Tests that run on the MicroPython interpreter (``run.py``) and helpers the CPython tests share."""
