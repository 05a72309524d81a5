"""``tradelearn sim calibrate-impact``: fit the market-impact model on a LOBSTER day.

Until it is wired under ``tradelearn sim``, the same command runs as
``python -m tradelearn.cli.impact --message M --orderbook O [--out P] [--json]``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tradelearn.cli.common import emit_json, out_console, progress, resolve_input, run_guarded
from tradelearn.data.lobster import load_lobster
from tradelearn.errors import ConfigError
from tradelearn.sim.calibrate_impact import ImpactCalibration, KernelFit, calibrate_impact
from tradelearn.sim.impact import KERNELS, Kernel

app = typer.Typer(help="Market impact: calibrate the propagator model.", no_args_is_help=True)


def _fmt(value: float | None, se: float | None = None) -> str:
    if value is None:
        return "-"
    text = f"{value:.4g}"
    return text if se is None or se != se else f"{text} ± {se:.2g}"


def _fits_table(cal: ImpactCalibration) -> Table:
    table = Table(title=f"impact fits, {cal.symbol} {cal.date} ({cal.n_orders:,} market orders)")
    for col in ("kernel", "permanent", "transient", "decay_s", "beta", "chi2/dof", "R²", "RMSE"):
        table.add_column(col)
    fits: tuple[KernelFit, ...] = (cal.exp_fit, cal.power_fit)
    for f in fits:
        table.add_row(
            f.kernel + (" *" if f.kernel == cal.best_kernel else ""),
            _fmt(f.permanent, f.permanent_se),
            _fmt(f.transient, f.transient_se),
            _fmt(f.decay_s, f.decay_s_se),
            _fmt(f.beta, f.beta_se),
            _fmt(f.chi2_per_dof),
            _fmt(f.r2),
            _fmt(f.rmse),
        )
    return table


def _curve_table(cal: ImpactCalibration) -> Table:
    table = Table(title="bare impulse response I(h) per unit f(v), and R(tau) per order")
    for col in ("h (s)", "I(h)", "R(tau)"):
        table.add_column(col)
    k, r = cal.kernel, cal.response_time  # both on the horizons: k.x is the mean lag
    for i, tau in enumerate(r.x):
        table.add_row(f"{tau:g}", _fmt(k.value[i], k.se[i]), _fmt(r.value[i], r.se[i]))
    return table


@app.command("calibrate-impact")
def calibrate_impact_command(
    message: Annotated[
        Path, typer.Option("--message", "-m", help="LOBSTER message file (.csv or .csv.gz).")
    ],
    orderbook: Annotated[
        Path, typer.Option("--orderbook", "-o", help="LOBSTER orderbook file (level 1 suffices).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the fitted ImpactParams here (JSON).")
    ] = None,
    kernel: Annotated[
        str, typer.Option(help="Kernel of the parameters written: exp, power or best.")
    ] = "best",
    include_hidden: Annotated[
        bool, typer.Option("--hidden/--no-hidden", help="Count hidden executions as trades.")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the block bootstrap.")] = 0,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples.")] = 200,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Calibrate permanent and transient impact, its decay and concavity on a LOBSTER day."""

    def body() -> None:
        if kernel not in (*KERNELS, "best"):
            raise ConfigError(f"--kernel must be exp, power or best, actually: {kernel!r}")
        mpath = resolve_input(message, "--message")
        opath = resolve_input(orderbook, "--orderbook")
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("parse", total=2)
            t0 = time.perf_counter()
            day = load_lobster(mpath, opath)
            prog.update(task, advance=1, description="calibrate")
            cal = calibrate_impact(day, include_hidden=include_hidden, n_boot=n_boot, seed=seed)
            prog.update(task, advance=1)
        chosen: Kernel = (
            "exp" if kernel == "exp" else "power" if kernel == "power" else cal.best_kernel
        )
        params = cal.to_params(chosen)
        if out is not None:
            params.save(out)
        result: dict[str, Any] = cal.to_dict()
        result["params"] = params.to_dict()
        result["out"] = None if out is None else str(out)
        result["message_file"] = str(mpath)
        result["orderbook_file"] = str(opath)
        result["seconds"] = time.perf_counter() - t0
        if json_out:
            emit_json(result)
            return
        out_console.print(_fits_table(cal))
        out_console.print(_curve_table(cal))
        c = cal.concavity
        out_console.print(f"concavity δ = {_fmt(c.concavity, c.se)} (log-log R² {c.r2:.2f})")
        for s in cal.permanent_long:
            out_console.print(
                f"long-horizon slope over {s.horizon_s:g} s: {_fmt(s.slope, s.se)} "
                f"({s.n_intervals} intervals)"
            )
        for note in cal.notes:
            out_console.print(f"[yellow]note:[/] {note}", highlight=False)
        out_console.print(f"parameters ({chosen}): {params.to_dict()}", highlight=False)
        if out is not None:
            out_console.print(f"wrote {out}")

    run_guarded(body)


if __name__ == "__main__":
    app()
