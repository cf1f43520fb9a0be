"""`python -m controlroom` runs the CLI."""

from controlroom.cli import main

raise SystemExit(main())
