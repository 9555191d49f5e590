"""The resident's session as a state machine (no UI imports): steps, their transition table, the
shared context and the controller that runs them (see ``steps.py``)."""
