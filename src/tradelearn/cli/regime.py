"""``tradelearn regime``: Market regimes: Gaussian mixture and HMM regimes, drift detection and refits.

``regime fit`` fits a regime model to a daily series' volatility and trend features and
reports each regime (share, run length, volatility, trend), the current regime and,
with ``--stability-seeds N``, how well labels agree across N seeds after alignment.
``regime intraday`` does the same on one LOBSTER day's bars (volatility, trend, spread,
volume). ``regime adapt`` runs the walk-forward comparison of a static volatility forecaster with
periodic, refit-on-drift and regime-aware ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from tradelearn.cli.common import emit_json, out_console, progress, run_guarded
from tradelearn.errors import ConfigError

app = typer.Typer(
    help="Market regimes: Gaussian mixture and HMM regimes, drift detection and refits.",
    no_args_is_help=True,
)

SeriesOpt = Annotated[str, typer.Option("--series", help="sp500, nasdaq, or a daily OHLCV file.")]
SymbolOpt = Annotated[str | None, typer.Option("--symbol", help="Symbol, for a panel file.")]
ModelOpt = Annotated[str, typer.Option("--model", help="gmm (Gaussian mixture) or hmm.")]
StatesOpt = Annotated[int, typer.Option("--states", help="Number of regimes K.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the regime model.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write an HTML report here.")]


def _data(series: str, symbol: str | None) -> Any:
    from tradelearn.cli.risk_forecast import series_path
    from tradelearn.data.daily import load_daily
    from tradelearn.risk.realized import vol_data

    return vol_data(load_daily(series_path(series)), symbol)


def _check(model: str, states: int) -> None:
    if model not in ("gmm", "hmm"):
        raise ConfigError(f"--model must be 'gmm' or 'hmm', actually: {model!r}")
    if states < 2:
        raise ConfigError(f"--states must be >= 2, actually: {states}")


@app.command("fit")
def fit(
    series: SeriesOpt = "sp500",
    model: ModelOpt = "hmm",
    states: StatesOpt = 2,
    seed: SeedOpt = 0,
    symbol: SymbolOpt = None,
    n_init: Annotated[int, typer.Option("--n-init", help="EM restarts per fit.")] = 3,
    vol_window: Annotated[
        int, typer.Option("--vol-window", help="Days of the volatility feature.")
    ] = 21,
    trend_window: Annotated[
        int, typer.Option("--trend-window", help="Days of the trend feature.")
    ] = 63,
    stability_seeds: Annotated[
        int,
        typer.Option(
            "--stability-seeds",
            help="Refit with this many seeds and report label agreement (0: skip).",
        ),
    ] = 0,
    causal: Annotated[
        bool, typer.Option("--causal", help="Filtered (not smoothed) HMM probabilities.")
    ] = False,
    json_out: JsonOpt = False,
    report: ReportOpt = None,
) -> None:
    """Fit regimes on daily volatility and trend; labels ordered by volatility (0 = calmest)."""
    from tradelearn.regime.features import daily_features
    from tradelearn.regime.models import RegimeModel, seed_stability
    from tradelearn.regime.report import regime_section, regime_summary

    def body() -> None:
        _check(model, states)
        if stability_seeds == 1 or stability_seeds < 0:
            raise ConfigError(f"--stability-seeds must be 0 or >= 2, actually: {stability_seeds}")
        data = _data(series, symbol)
        feats = daily_features(data, vol_window=vol_window, trend_window=trend_window)
        with progress(not json_out) as prog:
            task = prog.add_task(f"{model.upper()} fit", total=1 + stability_seeds)
            m = RegimeModel(model, states, seed=seed, n_init=n_init).fit(feats.values)
            prog.advance(task)
            stab = None
            if stability_seeds:
                st = seed_stability(
                    feats.values, model, states, [seed + i for i in range(stability_seeds)],
                    causal=causal, n_init=n_init, on_step=lambda: prog.advance(task),
                )  # fmt: skip
                stab = {
                    "seeds": stability_seeds,
                    "mean_agreement": st.mean,
                    "min_agreement": st.min,
                    "pairwise_min": st.pairwise_min,
                    "unaligned_mean": st.unaligned_mean,
                }
        proba = m.predict_proba(feats.values, causal=causal)
        labels = np.argmax(proba, axis=1)
        now = m.predict_proba(feats.values, causal=True)[-1]
        trans = m.transmat_
        result: dict[str, Any] = {
            "series": data.symbol,
            "model": model,
            "states": states,
            "seed": seed,
            "rows": len(feats),
            "first": str(feats.dates[0]),
            "last": str(feats.dates[-1]),
            "features": list(feats.names),
            "probabilities": "filtered" if causal or model == "gmm" else "smoothed",
            "converged": m.converged_,
            "loglik_per_row": m.score(feats.values),
            "bic": m.bic(feats.values),
            "regimes": [
                {
                    **r,
                    "mean": [float(v) for v in m.means_[r["regime"]]],
                    "weight": float(m.weights_[r["regime"]]),
                }
                for r in regime_summary(feats, labels)
            ],
            "transmat": None if trans is None else trans.tolist(),
            "current": {
                "date": str(feats.dates[-1]),
                "regime": int(np.argmax(now)),
                "proba": now.tolist(),
            },
            "stability": stab,
        }
        if report is not None:
            path = regime_section(feats, m, causal=causal, symbol=data.symbol, stability=stab).save(
                report
            )
            result["report"] = str(path)
        if json_out:
            emit_json(result)
            return
        out_console.print(
            f"{data.symbol}: {model.upper()} K={states}, {len(feats)} days "
            f"{feats.dates[0]}..{feats.dates[-1]}, now regime {result['current']['regime']}"
        )
        for r in result["regimes"]:
            out_console.print(
                f"  regime {r['regime']}: share {r['share']:.2f}, mean run {r['mean_run']:.1f} d, "
                f"vol {r['vol_ann_pct']:.1f}%/y, trend {r['trend_ann_pct']:+.1f}%/y"
            )
        if stab:
            out_console.print(
                f"  stability over {stability_seeds} seeds: mean {stab['mean_agreement']:.4f}, "
                f"min {stab['min_agreement']:.4f}"
            )
        if report is not None:
            out_console.print(f"  report: {result['report']}")

    run_guarded(body)


@app.command("intraday")
def intraday(
    message: Annotated[str, typer.Option("--message", help="LOBSTER message file.")],
    orderbook: Annotated[str, typer.Option("--orderbook", help="LOBSTER orderbook file.")],
    model: ModelOpt = "gmm",
    states: StatesOpt = 2,
    seed: SeedOpt = 0,
    bar_s: Annotated[float, typer.Option("--bar-s", help="Bar length in seconds.")] = 60.0,
    window: Annotated[int, typer.Option("--window", help="Bars per rolling feature.")] = 5,
    json_out: JsonOpt = False,
    report: ReportOpt = None,
) -> None:
    """Regimes within one LOBSTER day from bar volatility, trend, spread and volume."""
    from tradelearn.cli.common import resolve_input
    from tradelearn.data.lobster import load_lobster
    from tradelearn.regime.features import intraday_features, lobster_bars
    from tradelearn.regime.models import RegimeModel
    from tradelearn.regime.report import regime_section, regime_summary

    def body() -> None:
        _check(model, states)
        if not bar_s > 0:
            raise ConfigError(f"--bar-s must be > 0, actually: {bar_s}")
        day = load_lobster(
            resolve_input(message, "--message"), resolve_input(orderbook, "--orderbook")
        )
        feats = intraday_features(lobster_bars(day, bar_s=bar_s), window=window)
        m = RegimeModel(model, states, seed=seed).fit(feats.values)
        labels = m.predict(feats.values, causal=False)
        per_year = 23_400.0 / bar_s  # bars per session: "annualised" figures are per day
        rows = regime_summary(feats, labels, periods_per_year=per_year)
        for r in rows:
            k = r["regime"]
            r.update(
                spread_bps=float(np.exp(m.means_[k, 2])),
                volume_per_bar=float(np.expm1(m.means_[k, 3])),
            )
        result: dict[str, Any] = {
            "symbol": day.symbol,
            "date": str(day.date),
            "model": model,
            "states": states,
            "bars": len(feats),
            "bar_s": bar_s,
            "features": list(feats.names),
            "units": "vol and trend per session (percent); spread at the state mean (bps)",
            "regimes": rows,
            "transmat": None if m.transmat_ is None else m.transmat_.tolist(),
        }
        if report is not None:
            result["report"] = str(regime_section(feats, m, symbol=day.symbol).save(report))
        if json_out:
            emit_json(result)
            return
        out_console.print(f"{day.symbol} {day.date}: {model.upper()} K={states}, {len(feats)} bars")
        for r in rows:
            out_console.print(
                f"  regime {r['regime']}: share {r['share']:.2f}, spread {r['spread_bps']:.2f} bps, "
                f"volume {r['volume_per_bar']:.0f}/bar"
            )

    run_guarded(body)


@app.command("adapt")
def adapt(
    series: SeriesOpt = "sp500",
    symbol: SymbolOpt = None,
    start: Annotated[
        str, typer.Option("--start", help="First out-of-sample day (ISO).")
    ] = "2004-01-01",
    window: Annotated[int, typer.Option("--window", help="Rows per refit.")] = 1000,
    detector: Annotated[str, typer.Option("--detector", help="ph (Page-Hinkley) or adwin.")] = "ph",
    monitor: Annotated[
        str, typer.Option("--monitor", help="Detector input: abs_error (|z|) or error (z).")
    ] = "abs_error",
    model: ModelOpt = "hmm",
    states: StatesOpt = 2,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    report: ReportOpt = None,
) -> None:
    """Walk forward: static vs periodic vs refit-on-drift vs regime-aware volatility forecasts."""
    from tradelearn.regime.adapt import AdaptConfig, compare_strategies, walk_forward
    from tradelearn.regime.report import adaptation_section

    def body() -> None:
        _check(model, states)
        cfg = AdaptConfig(
            start=start,
            window=window,
            detector=detector,
            monitor=monitor,
            regime_kind=model,
            n_states=states,
            seed=seed,
        )
        data = _data(series, symbol)
        n = len(data) - data.index_of(start)
        with progress(not json_out) as prog:
            task = prog.add_task("walk forward", total=max(n, 0))
            res = walk_forward(data, cfg, on_step=lambda: prog.advance(task))
        cmp = compare_strategies(res, seed=seed)
        if report is not None:
            cmp["report"] = str(adaptation_section(res, cmp).save(report))
        if json_out:
            emit_json(cmp)
            return
        out_console.print(
            f"{res.symbol}: {cmp['n_forecasts']} forecasts {cmp['first_target']}..{cmp['last_target']} "
            f"(QLIKE of the next-day log-GK forecast; best {cmp['best']})"
        )
        for s, r in cmp["strategies"].items():
            extra = ""
            if "dm_p" in r:
                lo, hi = r["diff_ci95"]
                extra = (
                    f"  diff {r['diff_vs_static']:+.4f} [{lo:+.4f}, {hi:+.4f}] DM p={r['dm_p']:.2g}"
                )
            out_console.print(f"  {s:13s} QLIKE {r['qlike']:.4f}  refits {r['refits']:4d}{extra}")

    run_guarded(body)
