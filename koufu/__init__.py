"""The ``koufu`` console command (``koufu.cli``): one subcommand per component — card, authority,
center, municipal, verify, staff-code — and every layer's errors turned into one line each; and
the glue between packages that must not know each other (``koufu.cards``: the authority simulator
as the card emulator's issuer). It wires the product packages together and is imported by none
of them."""
