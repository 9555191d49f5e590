"""koufu's development tools (開発用): everything that exists to run, show, test and measure the
product, and nothing the product needs.

- :mod:`devtools.stack` — a whole stack on loopback: the JPKI authority, the center and municipal
  issuance servers as real processes over TLS, terminals enrolled, calendars loaded;
- :mod:`devtools.synthetic` — synthetic towns (residents, households, seals, tax, 戸籍) in a
  municipal server's record stores; :mod:`devtools.specimens` — specimen certificates of them;
- :mod:`devtools.authority` — the JPKI authority simulator at a chosen clock, with fast keys;
- :mod:`devtools.postgres` — a private PostgreSQL server for tests and benchmarks;
- :mod:`devtools.kiosk` — the demo panel, the emulated card in a resident's hand, residents with
  their cards, the rehearsal driver, screenshots and the virtual display (Xvfb);
- :mod:`devtools.run_all`, :mod:`devtools.card_demo` — ``make run`` and ``make demo``;
- :mod:`devtools.cli` — the ``koufu-dev`` command.

The product packages (``kiosk``, ``hardware``, ``firmware``, ``center``, ``documents``,
``printing``, ``koufu``) never import this package: ``tests/test_architecture.py`` checks it.
"""
