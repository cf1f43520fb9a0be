"""One screen per file, named for what the operator does there."""
