"""``tradelearn alpha``: train and evaluate supervised alpha models.

``train`` builds a dataset, splits it by time into train/valid/test (purged, embargoed),
fits a registered model on the training segment (early stopping on the valid one) and
writes a run folder: ``model/`` (the saved model), ``run.json`` (how the dataset was built
and split) and ``predictions.npz`` (test scores). ``evaluate`` rebuilds the same dataset
from ``run.json``, loads the model and scores it: IC, RankIC, ICIR, the top-minus-bottom
decile portfolio after costs, macro-F1 and the confusion matrix; ``--report`` writes them
to one HTML file with plots.

Sources: ``daily`` (an OHLCV panel; the S&P 500 panel of the data folder by default).
The ``lob`` source (LOBSTER book features) is not wired yet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
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
from tradelearn.errors import ConfigError

app = typer.Typer(
    help="Alpha signals: train and evaluate supervised models on book and daily features.",
    no_args_is_help=True,
)

DEFAULT_PANEL = "daily_ohlcv/sp500_kaggle_camnugent_2013-02-08_2018-02-07.csv.gz"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _parse_params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--param must look like key=value, actually: {item!r}")
        key, raw = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def _panel_path(data: str | None) -> Path:
    if data is not None:
        return resolve_input(data, "--data")
    base = config.data_dir(state.data_dir, required=True)
    assert base is not None
    return resolve_input(base / DEFAULT_PANEL, "--data (default S&P 500 panel)")


def _build(run: dict[str, Any]) -> Any:
    """The daily dataset described by ``run``."""
    from tradelearn.alpha.features_daily import build_daily_dataset
    from tradelearn.data.daily import load_daily

    panel = load_daily(Path(run["data"]), repair=True)
    return build_daily_dataset(
        panel, horizon=run["horizon"], skip=run["skip"], label=run["label"], warmup=run["warmup"]
    )


def _split(run: dict[str, Any], dd: Any) -> Any:
    """The purged, embargoed split of ``run["segments"]``."""
    from tradelearn.alpha.dataset import Segments, split_segments

    seg = run["segments"]
    segs = Segments(
        train=(seg["train"][0], seg["train"][1]),
        valid=(seg["valid"][0], seg["valid"][1]) if seg.get("valid") else None,
        test=(seg["test"][0], seg["test"][1]),
    )
    return split_segments(dd.dataset, segs, run["embargo"])


def _default_segments(dates: np.ndarray, test_start: str | None, valid_days: int) -> dict[str, Any]:
    days = np.unique(dates)
    t0 = np.datetime64(test_start, "D") if test_start else days[int(len(days) * 0.8)]
    before = days[days < t0]
    if len(before) <= valid_days + 1:
        raise ConfigError(
            f"--test-start {t0}: only {len(before)} days before it, need > --valid-days "
            f"{valid_days} + 1"
        )
    return {
        "train": [str(days[0]), str(before[-valid_days - 1])],
        "valid": [str(before[-valid_days]), str(before[-1])] if valid_days else None,
        "test": [str(t0), str(days[-1])],
    }


@app.command("train")
def train(
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    model: Annotated[str, typer.Option("--model", help="Registered model name.")] = "lgbm",
    source: Annotated[str, typer.Option("--source", help="daily or lob.")] = "daily",
    data: Annotated[str | None, typer.Option("--data", help="Daily OHLCV panel file.")] = None,
    task: Annotated[str, typer.Option("--task", help="classification or regression.")] = (
        "regression"
    ),
    label: Annotated[
        str, typer.Option("--label", help="raw, rank, zscore, vol_scaled (class for classifiers).")
    ] = "rank",
    horizon: Annotated[int, typer.Option("--horizon", help="Label horizon in days.")] = 5,
    skip: Annotated[int, typer.Option("--skip", help="Days from signal to label start.")] = 1,
    test_start: Annotated[
        str | None, typer.Option("--test-start", help="First test day (default: last 20%).")
    ] = None,
    valid_days: Annotated[int, typer.Option("--valid-days", help="Valid segment length.")] = 252,
    embargo: Annotated[int, typer.Option("--embargo", help="Embargo in trading days.")] = 5,
    warmup: Annotated[int, typer.Option("--warmup", help="History rows before use.")] = 120,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Model parameter key=value (JSON value).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Model seed.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Fit a model on the training segment and write the run folder."""
    from tradelearn.alpha.dataset import FillNaN, prepare
    from tradelearn.alpha.evaluate import model_scores
    from tradelearn.alpha.models import make_model

    def body() -> None:
        if source == "lob":
            raise ConfigError("--source lob is not available yet: use --source daily")
        if source != "daily":
            raise ConfigError(f"--source must be 'daily' or 'lob', actually: {source!r}")
        if task == "classification" and label != "class":
            raise ConfigError(f"--task classification needs --label class, actually: {label!r}")
        params = _parse_params(param or [])
        m = make_model(model, task=task, seed=seed, **params)  # bad names fail before any work
        with progress(not json_out) as prog:
            bar = prog.add_task("build features", total=3)
            run: dict[str, Any] = {
                "source": source, "data": str(_panel_path(data)), "horizon": horizon,
                "skip": skip, "label": label, "warmup": warmup, "embargo": embargo,
                "model": model, "task": task, "seed": seed, "params": params,
            }  # fmt: skip
            dd = _build(run)
            run["segments"] = _default_segments(dd.dataset.dates, test_start, valid_days)
            split = _split(run, dd)
            seg = prepare(dd.dataset, split, [FillNaN(0.0)])
            prog.advance(bar)
            prog.update(bar, description=f"fit {model}")
            valid = seg["valid"]
            m.fit(seg["train"].X, seg["train"].y, valid.X if len(valid) else None,
                  valid.y if len(valid) else None)  # fmt: skip
            prog.advance(bar)
            prog.update(bar, description="save")
            out.mkdir(parents=True, exist_ok=True)
            m.save(out / "model")
            test = seg["test"]
            np.savez_compressed(
                out / "predictions.npz",
                score=model_scores(m, test.X),
                target=test.target,
                dates=test.dates,
                symbols=test.symbols,
            )
            run["sizes"] = {k: len(v) for k, v in seg.items()}
            (out / "run.json").write_text(json.dumps(run, indent=1))
            prog.advance(bar)
        doc = {"out": str(out), "model": model, "segments": run["segments"], "sizes": run["sizes"]}
        if json_out:
            emit_json(doc)
        else:
            out_console.print(f"trained {model} on {run['sizes']['train']} samples -> {out}")

    run_guarded(body)


def _confusion(score: np.ndarray, target: np.ndarray, dates: np.ndarray, k: int) -> Any:
    """Per-day ``k``-quantile bins of the score against those of the target."""
    from tradelearn.alpha.dataset import cs_rank
    from tradelearn.alpha.evaluate import confusion_matrix, macro_f1

    ok = np.isfinite(score) & np.isfinite(target)
    bins = [
        np.floor((cs_rank(x[ok], dates[ok]) + 0.5) * k).clip(0, k - 1).astype(np.int64)
        for x in (score, target)
    ]
    return confusion_matrix(bins[1], bins[0], k), macro_f1(bins[1], bins[0], k)


@app.command("evaluate")
def evaluate(
    run_dir: Annotated[Path, typer.Option("--run", help="Run folder written by train.")],
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")] = None,
    cost_bp: Annotated[float, typer.Option("--cost-bp", help="Cost per side, bp.")] = 10.0,
    quantile: Annotated[float, typer.Option("--quantile", help="Leg size fraction.")] = 0.1,
    json_out: JsonOpt = False,
) -> None:
    """Score a trained model on its valid and test segments (IC, decile L/S, F1)."""
    from tradelearn.alpha.dataset import FillNaN, prepare
    from tradelearn.alpha.evaluate import daily_ic, long_short, model_scores, signal_report
    from tradelearn.alpha.models import load_model

    def body() -> None:
        f = run_dir / "run.json"
        if not f.is_file():
            raise ConfigError(f"--run {run_dir}: not a run folder (no run.json)")
        run = json.loads(f.read_text())
        with progress(not json_out) as prog:
            bar = prog.add_task("rebuild dataset", total=2)
            dd = _build(run)
            seg = prepare(dd.dataset, _split(run, dd), [FillNaN(0.0)])
            prog.advance(bar)
            m = load_model(run_dir / "model")
            results: dict[str, Any] = {"model": run["model"], "run": str(run_dir)}
            series: dict[str, Any] = {}
            for part in ("valid", "test"):
                s = seg[part]
                if len(s) == 0:
                    continue
                score = model_scores(m, s.X)
                nxt = dd.next_return[s.index]
                r: dict[str, Any] = signal_report(
                    score, s.target, nxt, s.dates, s.symbols, run["horizon"], cost_bp, quantile
                )
                cm, f1 = _confusion(score, s.target, s.dates, 3)
                r["tercile_macro_f1"] = f1
                r["tercile_confusion"] = cm.tolist()
                r["period"] = [str(s.dates.min()), str(s.dates.max())]
                results[part] = r
                days, ic = daily_ic(score, s.target, s.dates)
                ls = long_short(score, nxt, s.dates, s.symbols, quantile, cost_bp, run["horizon"])
                series[part] = (days, ic, ls, cm)
            prog.advance(bar)
        if report is not None:
            _write_report(report, results, series)
            results["report"] = str(report)
        if json_out:
            emit_json(results)
            return
        for part in ("valid", "test"):
            if part in results:
                r = results[part]
                out_console.print(
                    f"{part}: IC {r['ic']:+.4f} RankIC {r['rank_ic']:+.4f} ICIR {r['icir']:+.3f} "
                    f"L/S net {r['ls_net_annual']:+.3f}/yr  tercile F1 {r['tercile_macro_f1']:.3f}"
                )

    run_guarded(body)


def _write_report(path: Path, results: dict[str, Any], series: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tradelearn.report.html import HtmlReport

    rep = HtmlReport(f"Alpha model {results['model']}")
    keys = ("ic", "rank_ic", "icir", "rank_icir", "ls_net_annual", "ls_net_sharpe",
            "ls_turnover_daily", "tercile_macro_f1", "n_days")  # fmt: skip
    rows = [{"segment": p, **{k: results[p][k] for k in keys}} for p in series]
    rep.heading("Scores")
    rep.table(rows, decimals=4)
    for part, (days, ic, ls, cm) in series.items():
        rep.heading(f"{part} segment", 3)
        fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
        axes[0].bar(days, ic, width=1.0, color="#9ab")
        roll = np.convolve(ic, np.ones(20) / 20, mode="same") if len(ic) >= 20 else ic
        axes[0].plot(days, roll, color="#236", label="20-day mean")
        axes[0].set_title("daily IC")
        axes[0].legend()
        axes[1].plot(ls.days, np.cumsum(ls.net), label="net")
        axes[1].plot(ls.days, np.cumsum(ls.gross), label="gross", alpha=0.6)
        axes[1].set_title("cumulative top-minus-bottom decile return")
        axes[1].legend()
        axes[2].imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            axes[2].text(j, i, str(v), ha="center", va="center")
        axes[2].set_xlabel("predicted tercile")
        axes[2].set_ylabel("true tercile")
        axes[2].set_title("confusion matrix (per-day terciles)")
        fig.autofmt_xdate()
        rep.figure(fig, caption=f"{part}: IC through time, decile L/S, confusion matrix")
    rep.save(path)
