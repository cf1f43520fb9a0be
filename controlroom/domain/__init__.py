"""Pure rules of the control room: grades, roles, environments, 3x5x2, safe text.

Nothing in this package imports the rest of Control Room, SQLAlchemy or Textual.
"""
