"""``tradelearn sentiment``: News sentiment: score text with the MiniLM head, Loughran-McDonald or VADER."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="News sentiment: score text with the MiniLM head, Loughran-McDonald or VADER.",
    no_args_is_help=True,
)
