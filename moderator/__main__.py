"""Allows ``python -m moderator``."""

from moderator.cli import main

if __name__ == "__main__":
    main()
