"""Intelligence: search, one report, submitting (and superseding) a report."""
