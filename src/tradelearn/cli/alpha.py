"""``tradelearn alpha``: train and evaluate supervised alpha models.

``train`` builds a dataset, splits it by time into train/valid/test (purged, embargoed),
fits a registered model on the training segment (early stopping on the valid one) and
writes a run folder: ``model/`` (the saved model), ``run.json`` (how the dataset was built
and split) and ``predictions.npz`` (test scores). ``evaluate`` rebuilds the same dataset
from ``run.json``, loads the model and scores it: IC, RankIC, ICIR, the top-minus-bottom
decile portfolio after costs, macro-F1 and the confusion matrix; ``--report`` writes them
to one HTML file with plots.

Sources: ``daily`` (an OHLCV panel; the S&P 500 panel of the data folder by default),
ranked cross-sectional features and forward-return labels, scored per day; ``lob`` (a
LOBSTER message/orderbook pair), microstructure features or raw book levels and
smoothed mid-return classes, split 60/20/20 % by time, scored per 5-minute period.
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
from tradelearn.errors import ConfigError, DataError

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


LOB_SHARES = (0.6, 0.2)
"""Shares of a LOBSTER day's rows in the train and valid segments (the rest is test)."""


def _build_lob(run: dict[str, Any], input_kind: str) -> dict[str, dict[str, np.ndarray]]:
    """Train/valid/test samples of a LOBSTER day, split by time (60/20/20 % of rows).

    Labels are the smoothed mid return over ``horizon`` events, classified with a
    threshold fitted on the training rows; each segment's labels are computed from its own
    mids, so the last ``horizon`` rows of a segment (whose label would read the next one)
    have none. Features are z-scored with training statistics. Sequence models get windows
    of ``window`` rows; every ``step``-th labelled row is a sample. ``periods`` are
    5-minute buckets, the groups over which the IC is taken.
    """
    from tradelearn.alpha.dataset import ZScore
    from tradelearn.alpha.features_lob import (
        FeatureSpec,
        ffill,
        lob_features,
        mid_price,
        raw_levels,
        sequence_windows,
        split_book,
    )
    from tradelearn.alpha.labels import fit_threshold, smoothed_return
    from tradelearn.data.lobster import load_lobster

    day = load_lobster(Path(run["message"]), Path(run["orderbook"]))
    if day.book is None:
        raise ConfigError("--source lob needs --orderbook")
    levels = min(int(run["levels"]), day.levels)
    if run["inputs"] == "raw":
        X = raw_levels(day.book, levels)
    else:
        spec = FeatureSpec(levels=levels, tick=float(day.instrument.tick_size))
        X, _ = lob_features(day.book, day.events, spec)
    mid = ffill(mid_price(split_book(day.book, levels)))
    if not np.isfinite(mid).any():
        raise ConfigError(f"{run['orderbook']}: the book never shows both sides (no mid price)")
    mid[~np.isfinite(mid)] = mid[np.isfinite(mid)][0]  # rows before the first two-sided book
    n, k = len(mid), int(run["horizon"])
    cuts = [0, int(n * LOB_SHARES[0]), int(n * sum(LOB_SHARES)), n]
    thr = fit_threshold(mid[: cuts[1]], k)
    dummy = np.zeros(0, dtype="datetime64[D]")
    z = ZScore(clip=10.0).fit(X[: cuts[1]], dummy)
    Xz = z.transform(X, dummy)
    ts = day.events["ts_exchange"].astype("datetime64[ns]").astype("datetime64[m]")
    periods = ts.astype(np.int64) // 5 * 5
    w = int(run["window"]) if input_kind == "sequence" else 1
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, a, b in zip(("train", "valid", "test"), cuts[:-1], cuts[1:], strict=True):
        y = thr.labels(mid[a:b])
        ret = smoothed_return(mid[a:b], k)
        rows = np.arange(max(a, w - 1), b, int(run["step"]))
        rows = rows[y[rows - a] >= 0]
        if len(rows) == 0:
            raise ConfigError(f"segment {name} of the LOBSTER day holds no labelled rows")
        if input_kind == "sequence":
            Xs = sequence_windows(Xz, w, int(rows[0]), int(rows[-1]) + 1)
            Xs = Xs[rows - rows[0]]
        else:
            Xs = Xz[rows]
        out[name] = {
            "X": Xs,
            "y": y[rows - a],
            "target": ret[rows - a],
            "dates": periods[rows].astype("datetime64[m]"),
        }
    return out


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


def _segments(run: dict[str, Any], input_kind: str) -> dict[str, dict[str, Any]]:
    """Per segment: ``X``, ``y``, ``target``, ``dates`` (and, daily, ``symbols``, ``next``)."""
    if run["source"] == "lob":
        return _build_lob(run, input_kind)
    from tradelearn.alpha.dataset import FillNaN, prepare

    dd = _build(run)
    if "segments" not in run:
        run["segments"] = _default_segments(dd.dataset.dates, run["test_start"], run["valid_days"])
    seg = prepare(dd.dataset, _split(run, dd), [FillNaN(0.0)])
    return {
        k: {"X": v.X, "y": v.y, "target": v.target, "dates": v.dates, "symbols": v.symbols,
            "next": dd.next_return[v.index]}
        for k, v in seg.items()
    }  # fmt: skip


@app.command("train")
def train(
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    model: Annotated[str, typer.Option("--model", help="Registered model name.")] = "lgbm",
    source: Annotated[str, typer.Option("--source", help="daily or lob.")] = "daily",
    data: Annotated[str | None, typer.Option("--data", help="Daily OHLCV panel file.")] = None,
    message: Annotated[
        str | None, typer.Option("--message", help="LOBSTER message file (--source lob).")
    ] = None,
    orderbook: Annotated[
        str | None, typer.Option("--orderbook", help="LOBSTER orderbook file (--source lob).")
    ] = None,
    task: Annotated[
        str | None,
        typer.Option("--task", help="classification or regression (daily default regression)."),
    ] = None,
    label: Annotated[
        str, typer.Option("--label", help="Daily: raw, rank, zscore, vol_scaled or class.")
    ] = "rank",
    horizon: Annotated[
        int | None, typer.Option("--horizon", help="Label horizon: days (5) or events (50).")
    ] = None,
    skip: Annotated[int, typer.Option("--skip", help="Daily: days to label start.")] = 1,
    test_start: Annotated[
        str | None, typer.Option("--test-start", help="Daily: first test day (default last 20%).")
    ] = None,
    valid_days: Annotated[int, typer.Option("--valid-days", help="Daily: valid length.")] = 252,
    embargo: Annotated[int, typer.Option("--embargo", help="Daily: embargo, trading days.")] = 5,
    warmup: Annotated[int, typer.Option("--warmup", help="Daily: history rows.")] = 120,
    window: Annotated[int, typer.Option("--window", help="LOB: rows per sequence.")] = 20,
    step: Annotated[int, typer.Option("--step", help="LOB: take every step-th row.")] = 20,
    levels: Annotated[int, typer.Option("--levels", help="LOB: book levels used.")] = 10,
    inputs: Annotated[
        str, typer.Option("--inputs", help="LOB: features or raw (book levels, DeepLOB).")
    ] = "features",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Model parameter key=value (JSON value).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Model seed.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Fit a model on the training segment and write the run folder."""
    from tradelearn.alpha.evaluate import model_scores
    from tradelearn.alpha.models import make_model

    def body() -> None:
        if source not in ("daily", "lob"):
            raise ConfigError(f"--source must be 'daily' or 'lob', actually: {source!r}")
        t = task or ("classification" if source == "lob" else "regression")
        if source == "lob" and t != "classification":
            raise ConfigError(
                f"--source lob labels are classes: --task must be classification, not {t!r}"
            )
        if source == "daily" and t == "classification" and label != "class":
            raise ConfigError(f"--task classification needs --label class, actually: {label!r}")
        if inputs not in ("features", "raw"):
            raise ConfigError(f"--inputs must be 'features' or 'raw', actually: {inputs!r}")
        params = _parse_params(param or [])
        m = make_model(model, task=t, seed=seed, **params)  # bad names fail before any work
        run: dict[str, Any] = {"source": source, "model": model, "task": t, "seed": seed,
                               "params": params}  # fmt: skip
        if source == "daily":
            run.update(data=str(_panel_path(data)), horizon=horizon or 5, skip=skip, label=label,
                       warmup=warmup, embargo=embargo, test_start=test_start,
                       valid_days=valid_days)  # fmt: skip
        else:
            if message is None or orderbook is None:
                raise ConfigError("--source lob needs --message and --orderbook")
            run.update(message=str(resolve_input(message, "--message")),
                       orderbook=str(resolve_input(orderbook, "--orderbook")),
                       horizon=horizon or 50, window=window, step=step, levels=levels,
                       inputs=inputs)  # fmt: skip
        with progress(not json_out) as prog:
            bar = prog.add_task("build features", total=3)
            seg = _segments(run, m.input_kind)
            prog.advance(bar)
            prog.update(bar, description=f"fit {model}")
            tr, va = seg["train"], seg["valid"]
            has_valid = len(va["y"]) > 0
            m.fit(tr["X"], tr["y"], va["X"] if has_valid else None, va["y"] if has_valid else None)
            prog.advance(bar)
            prog.update(bar, description="save")
            out.mkdir(parents=True, exist_ok=True)
            m.save(out / "model")
            test = seg["test"]
            np.savez_compressed(out / "predictions.npz", score=model_scores(m, test["X"]),
                                target=test["target"], dates=test["dates"])  # fmt: skip
            run["sizes"] = {k: len(v["y"]) for k, v in seg.items()}
            (out / "run.json").write_text(json.dumps(run, indent=1))
            prog.advance(bar)
        doc = {"out": str(out), "model": model, "source": source, "sizes": run["sizes"],
               **({"segments": run["segments"]} if "segments" in run else {})}  # fmt: skip
        if json_out:
            emit_json(doc)
        else:
            out_console.print(f"trained {model} on {run['sizes']['train']} samples -> {out}")

    run_guarded(body)


def _confusion(score: np.ndarray, target: np.ndarray, dates: np.ndarray, k: int) -> Any:
    """Per-period ``k``-quantile bins of the score against those of the target."""
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
    from tradelearn.alpha.evaluate import (
        confusion_matrix,
        daily_ic,
        ic_summary,
        long_short,
        macro_f1,
        model_scores,
    )
    from tradelearn.alpha.models import load_model

    def body() -> None:
        f = run_dir / "run.json"
        if not f.is_file():
            raise ConfigError(f"--run {run_dir}: not a run folder (no run.json)")
        run = json.loads(f.read_text())
        lob = run["source"] == "lob"
        with progress(not json_out) as prog:
            bar = prog.add_task("rebuild dataset", total=2)
            m = load_model(run_dir / "model")
            seg = _segments(run, m.input_kind)
            prog.advance(bar)
            results: dict[str, Any] = {"model": run["model"], "source": run["source"],
                                       "run": str(run_dir)}  # fmt: skip
            series: dict[str, Any] = {}
            for part in ("valid", "test"):
                s = seg[part]
                if len(s["y"]) == 0:
                    continue
                score = model_scores(m, s["X"])
                try:
                    r: dict[str, Any] = ic_summary(score, s["target"], s["dates"])
                except DataError:  # the target is constant in every period: no IC defined
                    r = dict.fromkeys(("ic", "rank_ic", "icir", "rank_icir"), float("nan"))
                    r["n_days"] = 0
                days, ic = daily_ic(score, s["target"], s["dates"])
                ls = None
                if lob:
                    pred = np.asarray(m.predict(s["X"]), dtype=np.int64)
                    cm = confusion_matrix(s["y"], pred, 3)
                    r["macro_f1"] = macro_f1(s["y"], pred, 3)
                    r["accuracy"] = float(np.mean(pred == s["y"]))
                else:
                    ls = long_short(score, s["next"], s["dates"], s["symbols"], quantile,
                                    cost_bp, run["horizon"])  # fmt: skip
                    r.update(ls.summary())
                    cm, r["macro_f1"] = _confusion(score, s["target"], s["dates"], 3)
                r["confusion"] = cm.tolist()
                r["period"] = [str(s["dates"].min()), str(s["dates"].max())]
                results[part] = r
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
                extra = "" if lob else f"  L/S net {r['ls_net_annual']:+.3f}/yr"
                out_console.print(
                    f"{part}: IC {r['ic']:+.4f} RankIC {r['rank_ic']:+.4f} ICIR {r['icir']:+.3f} "
                    f"macro-F1 {r['macro_f1']:.3f}{extra}"
                )

    run_guarded(body)


def _write_report(path: Path, results: dict[str, Any], series: dict[str, Any]) -> None:
    """Scores table, then per segment: IC through time, decile L/S (daily), confusion matrix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tradelearn.report.html import HtmlReport

    lob = results["source"] == "lob"
    rep = HtmlReport(f"Alpha model {results['model']} ({results['source']})")
    keys = ["ic", "rank_ic", "icir", "rank_icir", "macro_f1", "n_days"]
    keys += ["accuracy"] if lob else ["ls_net_annual", "ls_net_sharpe", "ls_turnover_daily"]
    rep.heading("Scores")
    rep.paragraph(
        "IC and RankIC: Pearson and Spearman correlation of the score with the forward return "
        + ("per 5-minute period" if lob else "per day")
        + "; ICIR: their mean over standard deviation."
        + ("" if lob else " L/S: top-minus-bottom decile after costs (10 bp per side default).")
    )
    rep.table([{"segment": p, **{k: results[p][k] for k in keys}} for p in series], decimals=4)
    for part, (days, ic, ls, cm) in series.items():
        rep.heading(f"{part} segment", 3)
        fig, axes = plt.subplots(1, 2 if lob else 3, figsize=(10 if lob else 15, 3.6))
        x = np.arange(len(ic)) if lob else days
        axes[0].bar(x, ic, width=1.0, color="#9ab")
        roll = np.convolve(ic, np.ones(20) / 20, mode="same") if len(ic) >= 20 else ic
        axes[0].plot(x, roll, color="#236", label="20-period mean")
        axes[0].set_title("IC through time")
        axes[0].legend()
        if ls is not None:
            axes[1].plot(ls.days, np.cumsum(ls.net), label="net")
            axes[1].plot(ls.days, np.cumsum(ls.gross), label="gross", alpha=0.6)
            axes[1].set_title("cumulative top-minus-bottom decile return")
            axes[1].legend()
        ax = axes[-1]
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center")
        ax.set_xlabel("predicted class" if lob else "predicted tercile")
        ax.set_ylabel("true class" if lob else "true tercile")
        ax.set_title("confusion matrix" + ("" if lob else " (per-day terciles)"))
        if not lob:
            fig.autofmt_xdate()
        rep.figure(fig, caption=f"{part}: IC through time, confusion matrix")
    rep.save(path)
