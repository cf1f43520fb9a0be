"""Reusable widgets. Record data reaches them only through `record_text`."""
