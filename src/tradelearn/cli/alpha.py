"""``tradelearn alpha``: Alpha signals: train and evaluate supervised models on book and daily features."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Alpha signals: train and evaluate supervised models on book and daily features.",
    no_args_is_help=True,
)
