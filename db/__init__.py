"""Alembic migration environment, versions and reference code tables (CSV).

Installed as the package `controlroom.db`, so a non-editable install carries them.
"""
