"""Use cases: plain functions taking a unit of work and returning frozen dataclasses.

Screens call these and nothing below them. No ORM object leaves this package.
"""
