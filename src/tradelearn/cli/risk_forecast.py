"""``tradelearn risk forecast | var-backtest | anomaly``: forecasts, VaR backtests, anomaly scores.

Mounted on the ``risk`` app by :func:`register`. Series are ``sp500`` or ``nasdaq`` (the
arch index files under the data folder) or a path to a daily OHLCV file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tradelearn import config
from tradelearn.cli.common import (
    emit_json,
    out_console,
    progress,
    resolve_input,
    run_guarded,
    state,
)
from tradelearn.data.daily import load_daily
from tradelearn.errors import ConfigError

SERIES_FILES = {
    "sp500": "daily_ohlcv/index_macro_arch/sp500.csv.gz",
    "nasdaq": "daily_ohlcv/index_macro_arch/nasdaq.csv.gz",
}

SeriesOpt = Annotated[str, typer.Option("--series", help="sp500, nasdaq, or a daily OHLCV file.")]
StartOpt = Annotated[str, typer.Option("--start", help="First day forecast (ISO date).")]
WindowOpt = Annotated[int, typer.Option("--window", help="Rolling fit window in days.")]
RefitOpt = Annotated[int, typer.Option("--refit-every", help="Days between refits.")]
SymbolOpt = Annotated[str | None, typer.Option("--symbol", help="Symbol, for a panel file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def series_path(series: str) -> Path:
    """The file of a named series (under the data folder) or an input path."""
    if series in SERIES_FILES:
        base = config.data_dir(state.data_dir, required=True)
        assert base is not None
        return resolve_input(base / SERIES_FILES[series], f"--series {series}")
    return resolve_input(series, "--series")


def _load(series: str, symbol: str | None) -> Any:
    from tradelearn.risk.realized import vol_data

    return vol_data(load_daily(series_path(series)), symbol)


def forecast(
    series: SeriesOpt = "sp500",
    start: StartOpt = "2004-01-01",
    window: WindowOpt = 1000,
    refit_every: RefitOpt = 22,
    symbol: SymbolOpt = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the boosting and EGARCH draws.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Rolling out-of-sample variance forecasts (h = 1, 5, 22): QLIKE/MSE per model, DM tests."""
    from tradelearn.risk.losses import compare_forecasts
    from tradelearn.risk.vol import STANDARD_MODELS, TRADELEARN_MODELS, rolling_forecasts

    def body() -> None:
        data = _load(series, symbol)
        n_blocks = -(-(len(data) - data.index_of(start)) // refit_every) * 3
        with progress(not json_out) as prog:
            task = prog.add_task("GARCH refits", total=n_blocks)
            fs = rolling_forecasts(
                data, start=start, window=window, refit_every=refit_every, seed=seed,
                on_step=lambda: prog.advance(task),
            )  # fmt: skip
        report = compare_forecasts(
            fs.target, fs.forecasts, fs.horizons, STANDARD_MODELS, TRADELEARN_MODELS
        )
        live = {m: [float(x) for x in f[-1]] for m, f in fs.forecasts.items()}
        result = {
            "series": data.symbol,
            "first_origin": str(fs.dates[0]),
            "last_origin": str(fs.dates[-1]),
            "origins": len(fs.origins),
            "window": window,
            "refit_every": refit_every,
            "horizons": list(fs.horizons),
            "units": "sum of daily variances over h days, percent squared; proxy Garman-Klass",
            **report,
            "next_forecast": live,
            "garch_failed_refits": fs.garch_failures,
        }
        if json_out:
            emit_json(result)
            return
        out_console.print(f"{data.symbol}: {len(fs.origins)} origins from {fs.dates[0]}, QLIKE:")
        for m, vals in report["qlike"].items():  # type: ignore[attr-defined]
            out_console.print(
                f"  {m:16s} "
                + "  ".join(f"h={h}: {v:.4f}" for h, v in zip(fs.horizons, vals, strict=True))
            )
        for c in report["comparison"]:  # type: ignore[attr-defined]
            out_console.print(
                f"  h={c['h']}: {c['best_candidate']} {c['best_candidate_qlike']:.4f} vs "
                f"{c['best_standard']} {c['best_standard_qlike']:.4f} (ratio {c['ratio']:.3f}, "
                f"DM p={c['dm_p_two_sided']:.4f})"
            )

    run_guarded(body)


def var_backtest(
    series: SeriesOpt = "sp500",
    start: StartOpt = "2004-01-01",
    window: WindowOpt = 1000,
    refit_every: RefitOpt = 22,
    symbol: SymbolOpt = None,
    methods: Annotated[
        str, typer.Option("--methods", help="Comma-separated: hs,fhs,garch_t,gjr_t,evt.")
    ] = "hs,fhs,garch_t,gjr_t,evt",
    levels: Annotated[
        str, typer.Option("--levels", help="Comma-separated coverage levels.")
    ] = "0.99,0.975",
    json_out: JsonOpt = False,
) -> None:
    """One-day VaR/ES out of sample: hit rates, Kupiec, Christoffersen, traffic light, ES tests."""
    from tradelearn.risk.backtests import backtest_summary
    from tradelearn.risk.var import DEFAULT_METHOD, var_forecasts

    def body() -> None:
        data = _load(series, symbol)
        lv = tuple(_floats(levels, "--levels"))
        ms = [m.strip() for m in methods.split(",") if m.strip()]
        vfs = var_forecasts(
            data, ms, start=start, window=window, refit_every=refit_every, levels=lv
        )
        results = {
            m: {
                str(level): backtest_summary(
                    v.returns, v.var[:, j], v.es[:, j], level, None if m == "hs" else v.sigma
                )
                for j, level in enumerate(v.levels)
            }
            for m, v in vfs.items()
        }
        default = results.get(DEFAULT_METHOD)
        passes = None
        if default is not None:
            passes = all(r["kupiec_p"] > 0.05 and r["cc_p"] > 0.05 for r in default.values())  # type: ignore[operator]
        first = next(iter(vfs.values()))
        out = {
            "series": data.symbol,
            "first_day": str(first.dates[0]),
            "last_day": str(first.dates[-1]),
            "window": window,
            "refit_every": refit_every,
            "default_method": DEFAULT_METHOD,
            "default_passes_kupiec_and_cc": passes,
            "results": results,
        }
        if json_out:
            emit_json(out)
            return
        out_console.print(
            f"{data.symbol}: {first.dates[0]} .. {first.dates[-1]} ({len(first.dates)} days)"
        )
        for m, per in results.items():
            for level, r in per.items():
                out_console.print(
                    f"  {m:8s} {level:6s} hit rate {r['hit_rate']:.4f}  Kupiec p {r['kupiec_p']:.3f}  "
                    f"CC p {r['cc_p']:.3f}  ES p {r['es_mcneil_frey_p']:.3f}"
                )

    run_guarded(body)


def anomaly(
    source: Annotated[
        list[str],
        typer.Argument(
            help="LOBSTER message file(s), Binance capture(s) (.gz) or Databento MBO (.dbn.zst)."
        ),
    ],
    interval: Annotated[
        float, typer.Option("--interval", help="Interval length in seconds.")
    ] = 1.0,
    window: Annotated[
        int, typer.Option("--window", help="Robust z-score window (intervals).")
    ] = 300,
    tick: Annotated[
        int, typer.Option("--tick", help="Tick in price units, for MBO files.")
    ] = 250_000_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the forest and the bootstrap.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Anomaly scores and their early-warning AUC against trailing realized volatility."""
    from tradelearn.risk import anomaly as an

    def body() -> None:
        rows = []
        for src in source:
            tape = _tape(src, int(interval * 1e9), tick)
            X, ret, _ = an.interval_features(tape, int(interval * 1e9))
            Z, combined = an.robust_z_features(X, window)
            row: dict[str, Any] = {"source": tape.name, "intervals": len(X)}
            for name, score in (
                ("robust_z", combined),
                ("isolation_forest", an.isolation_scores(Z, rng=seed)),
            ):
                ew = an.early_warning_auc(score, ret, rng=seed)
                row[name] = {k: getattr(ew, k) for k in ew.__dataclass_fields__}
            rows.append(row)
        if json_out:
            emit_json({"interval_s": interval, "window": window, "results": rows})
            return
        for row in rows:
            for name in ("robust_z", "isolation_forest"):
                r = row[name]
                out_console.print(
                    f"{row['source']} {name}: AUC {r['auc_score']:.3f} vs trailing vol "
                    f"{r['auc_baseline']:.3f}, diff {r['diff']:+.3f} [{r['diff_low']:+.3f}, {r['diff_high']:+.3f}]"
                )

    run_guarded(body)


def _tape(src: str, interval_ns: int, tick: int) -> Any:
    from tradelearn.data.lobster import load_lobster
    from tradelearn.data.mbo import load_mbo, split_by_instrument
    from tradelearn.risk import anomaly as an

    path = resolve_input(src, "source")
    name = path.name
    if "_message_" in name:
        book = path.with_name(name.replace("_message_", "_orderbook_"))
        return an.lobster_tape(load_lobster(path, book))
    if name.endswith((".dbn", ".dbn.zst")):
        data = load_mbo(path)
        parts = split_by_instrument(data)
        iid = max(parts, key=lambda k: len(parts[k]))
        return an.mbo_tape(parts[iid].events, tick, interval_ns, f"mbo:{data.symbol(iid)}")
    if name.endswith(".gz"):
        return an.binance_tape(path)
    raise ConfigError(
        f"source must be a LOBSTER message file, a .dbn[.zst] or a Binance .gz, actually: '{src}'"
    )


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise ConfigError(f"{what} must be comma-separated numbers, actually: {text!r}") from exc


def register(app: typer.Typer) -> None:
    """Add ``forecast``, ``var-backtest`` and ``anomaly`` to the ``risk`` app."""
    app.command("forecast")(forecast)
    app.command("var-backtest")(var_backtest)
    app.command("anomaly")(anomaly)
