"""``tradelearn risk forecast | var-backtest | anomaly | posture``.

Forecasts, VaR backtests, anomaly scores, and the risk posture the forecasts set. Mounted
on the ``risk`` app by :func:`register`. Series are ``sp500`` or ``nasdaq`` (the arch index
files under the data folder) or a path to a daily OHLCV file. ``--report OUT.html`` writes
the command's report section (tables and plots, :mod:`tradelearn.risk.report`).
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
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Write an HTML report (tables and plots) here.")
]


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
    report_path: ReportOpt = None,
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
        if report_path is not None:
            from tradelearn.risk.report import forecast_section

            result["report"] = str(forecast_section(fs, report).save(report_path))
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
    report_path: ReportOpt = None,
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
        if report_path is not None:
            from tradelearn.risk.report import var_section

            plot = [DEFAULT_METHOD] if DEFAULT_METHOD in vfs else ms[:1]
            section = var_section(vfs, results, series=data.symbol, plot=plot)
            out["report"] = str(section.save(report_path))
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
    report_path: ReportOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Anomaly scores and their early-warning AUC against trailing realized volatility."""
    from tradelearn.risk import anomaly as an

    def body() -> None:
        rows = []
        plots: list[dict[str, Any]] = []
        for src in source:
            tape = _tape(src, int(interval * 1e9), tick)
            X, ret, ends = an.interval_features(tape, int(interval * 1e9))
            Z, combined = an.robust_z_features(X, window)
            row: dict[str, Any] = {"source": tape.name, "intervals": len(X)}
            scores = {
                "robust_z": combined,
                "isolation_forest": an.isolation_scores(Z, rng=seed),
            }
            for name, score in scores.items():
                ew = an.early_warning_auc(score, ret, rng=seed)
                row[name] = {k: getattr(ew, k) for k in ew.__dataclass_fields__}
            rows.append(row)
            if report_path is not None:
                from tradelearn.risk.report import interval_mids

                plots.append(
                    {"source": tape.name, "ends": ends, "mid": interval_mids(tape, ends),
                     "scores": scores, "auc": {k: row[k] for k in scores}}
                )  # fmt: skip
        result: dict[str, Any] = {"interval_s": interval, "window": window, "results": rows}
        if report_path is not None:
            from tradelearn.risk.report import anomaly_section

            result["report"] = str(anomaly_section(plots).save(report_path))
        if json_out:
            emit_json(result)
            return
        for row in rows:
            for name in ("robust_z", "isolation_forest"):
                r = row[name]
                out_console.print(
                    f"{row['source']} {name}: AUC {r['auc_score']:.3f} vs trailing vol "
                    f"{r['auc_baseline']:.3f}, diff {r['diff']:+.3f} [{r['diff_low']:+.3f}, {r['diff_high']:+.3f}]"
                )

    run_guarded(body)


def posture(
    series: SeriesOpt = "sp500",
    date: Annotated[
        str | None,
        typer.Option("--date", help="Trading day to set up (ISO); default the series' last day."),
    ] = None,
    qty: Annotated[
        float, typer.Option("--qty", help="Shares to sell over the horizon.")
    ] = 100_000.0,
    price: Annotated[
        float | None, typer.Option("--price", help="Arrival price; default the previous close.")
    ] = None,
    horizon_hours: Annotated[
        float, typer.Option("--horizon-hours", help="Hours to finish (of a 6.5-hour day).")
    ] = 1.0,
    steps: Annotated[int, typer.Option("--steps", help="Decision steps of the schedule.")] = 10,
    risk_aversion: Annotated[
        float | None,
        typer.Option(
            "--risk-aversion", help="Almgren-Chriss lambda; default the preset's at this price."
        ),
    ] = None,
    timing_risk_bps: Annotated[
        float | None,
        typer.Option("--timing-risk-bps", help="Cap on the schedule's cost s.d.; raises lambda."),
    ] = None,
    budget: Annotated[
        float, typer.Option("--budget", help="One-day VaR budget of the position (currency).")
    ] = 1_000_000.0,
    level: Annotated[float, typer.Option("--level", help="VaR level of the budget.")] = 0.99,
    model: Annotated[
        str, typer.Option("--model", help="Volatility model whose forecast sets sigma.")
    ] = "tl_combo",
    window: WindowOpt = 1000,
    symbol: SymbolOpt = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the boosting draws.")] = 0,
    report_path: ReportOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The day's forecasts set the posture: Almgren-Chriss urgency and a VaR-budget size.

    The volatility forecast for the day (made at the previous close) sets the Almgren-Chriss
    sigma; the default EVT VaR sets the VaR-budget size and the trading state. A static
    posture (the window's mean variance, historical VaR) is shown beside it.
    """
    from tradelearn.risk.posture import build_posture, posture_inputs
    from tradelearn.risk.sizing import VarBudget

    def body() -> None:
        data = _load(series, symbol)
        inputs = posture_inputs(data, date, model=model, window=window, level=level, seed=seed)
        price_ = inputs.prev_close if price is None else price
        template = inputs.template(qty, price_, horizon_hours / 6.5, steps, risk_aversion)
        budget_ = VarBudget(budget=budget, level=level)
        forecast_p, static_p = (
            build_posture(
                variance, template, budget_, var_pct=var, max_timing_risk_bps=timing_risk_bps
            )
            for variance, var in (
                (inputs.variance, inputs.var_pct),
                (inputs.static_variance, inputs.static_var_pct),
            )
        )
        result: dict[str, Any] = {
            "series": data.symbol,
            **inputs.to_dict(),
            "arrival_price": price_,
            "parent_qty": qty,
            "horizon_days": template.horizon,
            "n_steps": steps,
            "forecast_posture": forecast_p.to_dict(),
            "static_posture": static_p.to_dict(),
            "policy": forecast_p.policy().name,
            "policy_mean_trades": [float(x) for x in forecast_p.policy_trades()],
        }
        if report_path is not None:
            from tradelearn.risk.report import posture_section

            section = posture_section(
                {"forecast": forecast_p, "static": static_p},
                f"Risk posture: {data.symbol} {inputs.date}",
            )
            result["report"] = str(section.save(report_path))
        if json_out:
            emit_json(result)
            return
        out_console.print(
            f"{data.symbol} {inputs.date}: {model} forecast {inputs.variance:.3f} %^2 "
            f"(static {inputs.static_variance:.3f}), EVT VaR {inputs.var_pct:.2f}%"
        )
        for name, p in (("forecast", forecast_p), ("static", static_p)):
            d = p.to_dict()
            out_console.print(
                f"  {name:8s} kappa*T {d['kappa_T']:.2f}  first step {d['front_load']:.1%}  "
                f"E {d['expected_cost_bps']:.1f} bp  sd {d['timing_risk_bps']:.1f} bp  "
                f"VaR-budget shares {d['var_budget_shares']}  {d['trading_state']}"
            )
            out_console.print("    trades: " + " ".join(f"{x:,.0f}" for x in p.trades))

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
    """Add ``forecast``, ``var-backtest``, ``anomaly`` and ``posture`` to the ``risk`` app."""
    app.command("forecast")(forecast)
    app.command("var-backtest")(var_backtest)
    app.command("anomaly")(anomaly)
    app.command("posture")(posture)
