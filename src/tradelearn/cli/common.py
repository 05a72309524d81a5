"""Shared pieces of the command line: JSON output, progress bars, input paths, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tradelearn import config
from tradelearn.errors import TradelearnError

err_console = Console(stderr=True)
out_console = Console()

T = TypeVar("T")


class State:
    """Options given before the subcommand (``tradelearn --data-dir D ...``)."""

    data_dir: Path | None = None


state = State()


def emit_json(obj: Any) -> None:
    """Print one JSON object on stdout (nothing else goes to stdout under ``--json``)."""
    sys.stdout.write(json.dumps(obj, default=str, sort_keys=False) + "\n")
    sys.stdout.flush()


@contextmanager
def progress(enabled: bool = True) -> Iterator[Progress]:
    """A rich progress display on stderr (quiet when stderr is not a terminal)."""
    prog = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
        transient=False,
    )
    with prog:
        yield prog


def resolve_input(path: str | Path, what: str) -> Path:
    """Find an input file: as given, else relative to the real-data folder."""
    p = Path(path).expanduser()
    if p.exists():
        return p
    base = config.data_dir(state.data_dir)
    if base is not None and (base / p).exists():
        return base / p
    where = f" or under the data folder {base}" if base is not None else ""
    raise typer.BadParameter(f"{what}: no file '{path}' here{where}")


def run_guarded(fn: Callable[[], T]) -> T:
    """Run a command body; turn tradelearn errors into a clean message and exit code 2."""
    try:
        return fn()
    except TradelearnError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from exc
