"""The kiosk terminal (キオスク端末): the resident's session as an explicit state machine
(``workflow``), its ports and devices, the business with the center (``center_link``), the order
journal and recovery after a crash, the store staff's maintenance mode, and the Kivy touch UI
(``ui``, the only module with Kivy).

Imports of the project: ``documents``, ``printing``, ``hardware``, ``firmware`` and, of the
center, only the terminal's side of the link. See ``docs/architecture.md``.
"""
