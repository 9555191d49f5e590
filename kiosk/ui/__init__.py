"""The kiosk's touch UI on Kivy (タッチパネル画面): one screen per step of the workflow.

Kivy is imported only inside this package; the workflow, the devices and the center link never
see it. Importing the package first makes Kivy keep its logs off the disk: Kivy's own log file is
off, it reads no command line of ours, and its home (settings, logs) is a private runtime
directory (:mod:`kiosk.ui.environment`), so nothing about a resident can reach ``~/.kivy``.
"""

from kiosk.ui.environment import quiet_kivy

quiet_kivy()
