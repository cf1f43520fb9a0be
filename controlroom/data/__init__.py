"""Persistence: SQLAlchemy 2 models, the engine and session factory, the unit of work and
its repositories. Imports domain; never Textual."""
