"""The kiosk's devices, and simulators of each (機器).

- ``hardware.card`` — access to the My Number Card: transports (PC/SC with pyscard, NFC with
  nfcpy), ISO 7816, the JPKI and input-support applications, the PIN buffer, the holder's proof;
- ``hardware.cardsim`` — the My Number Card emulator and its links (in-process, vpcd, NFC over
  UDP), handed an issuer for its certificates;
- ``hardware.printer`` — the store's printer: one job per order on CUPS or a spool directory;
- ``hardware.peripherals`` — the host's side of the peripheral controller (coins and escrow, card
  tray, light and buzzer, door and tamper), and its simulator running the real firmware.

Imports of the project: ``firmware`` (the link protocol, shared) only. See ``docs/architecture.md``.
"""
