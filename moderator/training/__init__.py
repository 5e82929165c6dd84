"""Training: reproduce a model directory's heads from the labelled shared data.

Training imports scoring (the same backbone, text and logistic maths the scorer runs), never the reverse: the
scorer loads no training code. Run it with `moderator train` (or `python -m moderator.training`, the same
command). This package imports nothing heavy itself; its submodules need torch.
"""

from __future__ import annotations

import sys
import time


def log(msg: str) -> None:
    """A timestamped progress line on stderr (training runs for minutes)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
