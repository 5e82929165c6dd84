"""`python -m moderator.training [OPTIONS]` runs `moderator train [OPTIONS]`: one command, one code path."""

from __future__ import annotations

import sys

from moderator.cli import main

if __name__ == "__main__":
    main(["train", *sys.argv[1:]], prog_name="python -m moderator.training")
