"""`python -m concoord` runs the command line."""

from concoord.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
