"""Persons: search, the person record, creating a person, merging duplicates."""
