"""Control Room: a keyboard-driven terminal system for police control rooms.

Kept import-light on purpose: start-up time is measured (benchmarks/startup.py), so
nothing here pulls in Textual or SQLAlchemy.
"""

__version__ = "0.1.0"
