"""The ``koufu`` console command (``koufu.cli``): one subcommand per component — card, authority,
center, municipal, verify, staff-code — and every layer's errors turned into one line each.
It wires the product packages together and is imported by none of them."""
