"""``tradelearn regime``: Market regimes: Gaussian mixture and HMM regimes, drift detection and refits."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Market regimes: Gaussian mixture and HMM regimes, drift detection and refits.",
    no_args_is_help=True,
)
