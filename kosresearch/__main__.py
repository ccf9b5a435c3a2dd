"""``python -m kosresearch`` runs the command line."""

from kosresearch.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
