"""The ``tradelearn`` command line.

Every command that reports figures takes ``--json`` and then prints exactly one JSON
object on stdout; progress bars and messages go to stderr.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tradelearn import __version__
from tradelearn.cli.alpha import app as alpha_app
from tradelearn.cli.book import app as book_app
from tradelearn.cli.common import state
from tradelearn.cli.data import app as data_app
from tradelearn.cli.demo import demo
from tradelearn.cli.execution import app as exec_app
from tradelearn.cli.impact import calibrate_impact_command
from tradelearn.cli.regime import app as regime_app
from tradelearn.cli.risk import app as risk_app
from tradelearn.cli.sentiment import app as sentiment_app
from tradelearn.cli.sim import app as sim_app
from tradelearn.config import DATA_DIR_ENV

app = typer.Typer(
    name="tradelearn",
    help="Machine-learning trading: market data, order book, simulator and more.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.add_typer(book_app, name="book")
sim_app.command("calibrate-impact")(calibrate_impact_command)
app.add_typer(sim_app, name="sim")
app.add_typer(risk_app, name="risk")
app.add_typer(exec_app, name="exec")
app.add_typer(alpha_app, name="alpha")
app.add_typer(sentiment_app, name="sentiment")
app.add_typer(regime_app, name="regime")
app.command()(demo)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tradelearn {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help=f"Folder of real data (default: ${DATA_DIR_ENV}, else ../shared/data if present).",
            envvar=DATA_DIR_ENV,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """tradelearn: learn signals, execute with RL in an L3 simulator, manage risk, trade."""
    state.data_dir = data_dir


def main() -> None:
    """Console-script entry point."""
    # one thread per worker: two threads on a busy 2-core machine run far slower
    for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    app()
