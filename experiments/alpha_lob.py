"""Order-book alpha: GOOG level 10, train on the morning, test on the afternoon, and on AAPL.

Run (36 minutes measured on a shared 2-core machine, one torch thread)::

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python experiments/alpha_lob.py

What it does, per horizon ``k`` (events) and feature variant:

1. Loads the shared LOBSTER day (2012-06-21): GOOG at level 10 and AAPL at level 1.
2. Computes the causal microstructure features of :mod:`tradelearn.alpha.features_lob` on
   the whole day (each row uses only earlier rows) and the raw book levels the CNN-LSTM
   reads. Variant ``L10`` uses all ten levels; variant ``L1`` only what a level-1 file has,
   so its models can be tested on AAPL without refitting.
3. Segments by clock time: the first ``skip_open_s`` seconds warm the rolling normalizers
   up; the rest of the morning (to ``split``) is train, its last ``valid_fraction`` the
   validation segment (early stopping), the afternoon is the test. Labels are computed on
   each segment separately (FI-2010 smoothed direction, :mod:`tradelearn.alpha.labels`), so
   no training label looks into a later segment; the threshold ``alpha`` is fitted on the
   training segment and applied unchanged to validation, test and AAPL.
4. Features are clipped at the training segment's 0.1% and 99.9% quantiles (fitted on
   train only) and fed to every model: logreg, lgbm, rf, svm (a 5,000-row subsample),
   ensemble (mean probability of logreg, lgbm and rf: the registered ``ensemble`` with its
   default members, computed from the members already fitted here instead of refitting them),
   and the deep models on windows of ``window`` events: lstm and transformer on the
   features, deeplob on the raw levels. Deep models see every ``deep_step``-th training
   event and stop on a wall-time budget; tabular models every ``train_step``-th.
5. Scores macro-F1 on every ``test_step``-th test event and writes ``results.json``.

Subsampling, said plainly: tabular models train on every 2nd morning event (about 33,000
rows), the deep models on every 4th (about 16,400 windows) within 50 s (LSTM, Transformer)
or 120 s (CNN-LSTM) of training each; the SVM on 5,000 of the rows; the test scores use
every 4th afternoon event (about 17,600 GOOG and 14,500 AAPL rows).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from sklearn.metrics import f1_score  # type: ignore[import-untyped, unused-ignore]

from tradelearn.alpha.features_lob import (
    FeatureSpec,
    lob_features,
    mid_price,
    raw_levels,
    sequence_windows,
    split_book,
)
from tradelearn.alpha.labels import class_shares, fit_threshold
from tradelearn.alpha.models.base import make_model
from tradelearn.config import data_dir
from tradelearn.data.lobster import load_lobster, midnight_ns
from tradelearn.experiment_args import parse_dataclass_args

NAME = "{sym}_2012-06-21_34200000_57600000_{kind}_{levels}.csv.gz"
TABULAR = ("logreg", "lgbm", "rf", "svm")
DEEP = ("lstm", "deeplob", "transformer")


@dataclass
class Args:
    out: str = ".tradelearn/experiments/alpha_lob"
    """folder for results.json"""
    symbol: str = "GOOG"
    """stock trained and tested on (level-10 file)"""
    levels: int = 10
    """book levels of the main variant"""
    transfer_symbol: str = "AAPL"
    """stock the level-1 models are tested on without refitting (level-1 file)"""
    split: str = "12:45"
    """New York time that ends the morning (train) and starts the afternoon (test)"""
    skip_open_s: float = 300.0
    """seconds after 09:30 left out so rolling normalizers have warmed up"""
    valid_fraction: float = 0.15
    """last fraction of the morning used for early stopping (validation)"""
    horizons: tuple[int, ...] = (10, 50, 100)
    """label horizons k in events"""
    label_method: str = "future"
    """'future' (mean of next k mids vs mid_t, FI-2010) or 'past_future'"""
    window: int = 50
    """events per input window of the sequence models"""
    train_step: int = 2
    """tabular models train on every train_step-th training event"""
    deep_step: int = 4
    """sequence models train on every deep_step-th training (and validation) event"""
    test_step: int = 4
    """every test_step-th test event is scored (all models on the same rows)"""
    models: tuple[str, ...] = (*TABULAR, "ensemble", *DEEP)
    """models to run"""
    variants: tuple[str, ...] = ("L10", "L1")
    """feature variants: L10 (all levels) and L1 (level 1 only, also tested on AAPL)"""
    deep_epochs: int = 10
    """maximum epochs of the deep models"""
    deep_seconds: float = 50.0
    """wall-time training budget of lstm and transformer (per fit)"""
    deeplob_seconds: float = 120.0
    """wall-time training budget of the CNN-LSTM (per fit)"""
    svm_max_train: int = 5000
    """rows the SVM subsamples for training"""
    seed: int = 0
    """seed of every model"""


def parse_args() -> Args:
    return parse_dataclass_args(Args, (__doc__ or "").split("\n")[0], help_from_docs=False)


@dataclass
class Day:
    """One loaded stock: book, events, mid, features, raw levels."""

    symbol: str
    levels: int
    ts: np.ndarray
    mid: np.ndarray
    X: dict[str, np.ndarray]
    R: dict[str, np.ndarray]
    names: dict[str, list[str]]


def load_day(root: Path, symbol: str, levels: int, variants: tuple[str, ...]) -> Day:
    d = root / "lobster"
    m = d / NAME.format(sym=symbol, kind="message", levels=levels)
    o = d / NAME.format(sym=symbol, kind="orderbook", levels=levels)
    day = load_lobster(m, o)
    assert day.book is not None
    X, R, names = {}, {}, {}
    for v in variants:
        lv = int(v[1:])
        if lv > levels:
            continue
        X[v], names[v] = lob_features(day.book, day.events, FeatureSpec(levels=lv))
        R[v] = raw_levels(day.book, lv)
    mid = mid_price(split_book(day.book, 1))
    return Day(symbol, levels, day.events["ts_exchange"], mid, X, R, names)


def row_at(day: Day, date: dt.date, seconds: float) -> int:
    return int(np.searchsorted(day.ts, midnight_ns(date) + round(seconds * 1e9), side="left"))


def hms(text: str) -> float:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60.0


def macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    return float(f1_score(y, p, labels=[0, 1, 2], average="macro", zero_division=0))


class Clipper:
    """Clip each column at quantiles of the training rows (fitted on train only)."""

    def __init__(self, X: np.ndarray, q: float = 0.001) -> None:
        self.lo = np.quantile(X, q, axis=0)
        self.hi = np.quantile(X, 1 - q, axis=0)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.clip(X, self.lo, self.hi)


def build(name: str, args: Args) -> Any:
    if name == "svm":
        return make_model("svm", seed=args.seed, max_train=args.svm_max_train)
    if name == "rf":
        return make_model("rf", seed=args.seed, max_samples=0.5)
    if name in TABULAR:
        return make_model(name, seed=args.seed)
    budget = args.deeplob_seconds if name == "deeplob" else args.deep_seconds
    return make_model(
        name,
        seed=args.seed,
        epochs=args.deep_epochs,
        patience=2,
        batch_size=128,
        lr=1e-3,
        max_train_seconds=budget,
        device="cpu",
    )


def run_cell(
    args: Args, variant: str, k: int, goog: Day, other: Day | None, seg: dict[str, tuple[int, int]]
) -> dict[str, Any]:
    """Fit every model for one (variant, horizon) and score it on the test segments."""
    tr, va = seg["train"], seg["valid"]
    th = fit_threshold(goog.mid[tr[0] : tr[1]], k, args.label_method)  # type: ignore[arg-type]

    def rows(day: Day, lohi: tuple[int, int], step: int) -> tuple[range, np.ndarray]:
        lo, hi = lohi
        y = th.labels(day.mid[lo:hi])  # labels of this segment only: purged at its end
        r = range(lo, hi - k, step)
        yy = y[np.asarray(r) - lo]
        assert (yy >= 0).all()
        return r, yy

    tests: dict[str, tuple[Day, tuple[int, int]]] = {f"{args.symbol}_test": (goog, seg["test"])}
    if other is not None and variant in other.X:
        tests[f"{other.symbol}_test"] = (other, seg["other_test"])
    clip = Clipper(goog.X[variant][tr[0] : tr[1] : args.train_step])
    Xc = {d.symbol: clip(d.X[variant]) for d, _ in tests.values()}
    rclip = Clipper(goog.R[variant][tr[0] : tr[1] : args.train_step])
    Rc = {d.symbol: rclip(d.R[variant]) for d, _ in tests.values()}
    out: dict[str, Any] = {
        "alpha": th.alpha,
        "train_shares": th.train_shares,
        "n_features": int(Xc[goog.symbol].shape[1]),
        "n_raw": int(Rc[goog.symbol].shape[1]),
        "models": {},
        "test_shares": {},
    }
    test_rows = {}
    for tname, (day, lohi) in tests.items():
        r, y = rows(day, lohi, args.test_step)
        test_rows[tname] = (day, r, y)
        out["test_shares"][tname] = class_shares(y)
    probs: dict[str, dict[str, np.ndarray]] = {}
    for name in args.models:
        if name == "ensemble":
            continue
        seq = name in DEEP
        src = Rc if name == "deeplob" else Xc
        G = src[goog.symbol]
        step = args.deep_step if seq else args.train_step
        rtr, ytr = rows(goog, tr, step)
        rva, yva = rows(goog, va, step)

        def take(M: np.ndarray, r: range, seq: bool = seq) -> np.ndarray:
            if seq:
                return sequence_windows(M, args.window, r.start, r.stop, r.step)
            return M[r.start : r.stop : r.step]

        model = build(name, args)
        t0 = time.perf_counter()
        model.fit(take(G, rtr), ytr, take(G, rva), yva)
        fit_s = time.perf_counter() - t0
        rec: dict[str, Any] = {"fit_s": fit_s, "n_train": len(rtr)}
        if seq:
            rec["epochs"] = len(model.history_)
            rec["stopped_by"] = model.stopped_by_
        probs[name] = {}
        for tname, (day, r, y) in test_rows.items():
            t1 = time.perf_counter()
            p = model.predict_proba(take(src[day.symbol], r))
            probs[name][tname] = p
            rec[tname] = {
                "macro_f1": macro_f1(y, p.argmax(1)),
                "accuracy": float((p.argmax(1) == y).mean()),
                "predict_s": time.perf_counter() - t1,
            }
        out["models"][name] = rec
        print(
            f"  {variant} k={k:<3} {name:<12} fit {fit_s:6.1f}s  "
            + "  ".join(f"{t} F1 {rec[t]['macro_f1']:.3f}" for t in test_rows),
            flush=True,
        )
    members = [m for m in ("logreg", "lgbm", "rf") if m in probs]
    if "ensemble" in args.models and members:
        rec = {"members": members}
        for tname, (_day, _r, y) in test_rows.items():
            p = np.mean([probs[m][tname] for m in members], axis=0)
            rec[tname] = {
                "macro_f1": macro_f1(y, p.argmax(1)),
                "accuracy": float((p.argmax(1) == y).mean()),
            }
        out["models"]["ensemble"] = rec
    return out


def table(results: dict[str, Any], test: str, variant: str, horizons: tuple[int, ...]) -> str:
    cells = results["cells"][variant]
    names = list(next(iter(cells.values()))["models"])
    lines = [
        f"macro-F1, {variant} features, tested on {test}",
        f"{'model':<12}" + "".join(f"  k={k:<5}" for k in horizons),
    ]
    for n in names:
        vals = [
            cells[str(k)]["models"][n].get(test, {}).get("macro_f1", float("nan")) for k in horizons
        ]
        lines.append(f"{n:<12}" + "".join(f"  {v:7.3f}" for v in vals))
    return "\n".join(lines)


def main(args: Args) -> dict[str, Any]:
    torch.set_num_threads(1)
    root = data_dir(required=True)
    assert root is not None
    t_start = time.perf_counter()
    goog = load_day(root, args.symbol, args.levels, args.variants)
    other = load_day(root, args.transfer_symbol, 1, ("L1",)) if "L1" in args.variants else None
    date = dt.date(2012, 6, 21)
    warm = hms("09:30") + args.skip_open_s
    split = hms(args.split)
    vstart = split - args.valid_fraction * (split - warm)
    seg = {
        "train": (max(row_at(goog, date, warm), args.window), row_at(goog, date, vstart)),
        "valid": (row_at(goog, date, vstart), row_at(goog, date, split)),
        "test": (row_at(goog, date, split), len(goog.ts)),
    }
    if other is not None:
        seg["other_test"] = (row_at(other, date, split), len(other.ts))
    print(f"segments (rows): {seg}; features loaded in {time.perf_counter() - t_start:.0f}s")
    results: dict[str, Any] = {"args": dataclasses.asdict(args), "segments": seg, "cells": {}}
    for variant in args.variants:
        results["cells"][variant] = {}
        for k in args.horizons:
            results["cells"][variant][str(k)] = run_cell(args, variant, k, goog, other, seg)
    # the goal: the best model beats logistic regression by >= 5 F1 points at every horizon
    goal = {}
    test = f"{args.symbol}_test"
    for k in args.horizons:
        ms = results["cells"][args.variants[0]][str(k)]["models"]
        if "logreg" not in ms:
            continue
        base = ms["logreg"][test]["macro_f1"]
        best = max((m for m in ms if m != "logreg"), key=lambda m: ms[m][test]["macro_f1"])
        goal[str(k)] = {
            "logreg": base,
            "best": best,
            "best_f1": ms[best][test]["macro_f1"],
            "margin_points": 100 * (ms[best][test]["macro_f1"] - base),
            "met": ms[best][test]["macro_f1"] - base >= 0.05,
        }
    results["goal"] = goal
    deeplob_fits = [
        c["models"]["deeplob"]["fit_s"]
        for v in results["cells"].values()
        for c in v.values()
        if "deeplob" in c["models"]
    ]
    results["deeplob_max_fit_s"] = max(deeplob_fits, default=None)
    results["total_s"] = time.perf_counter() - t_start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print()
    for v in args.variants:
        print(table(results, test, v, args.horizons), "\n")
    if other is not None and "L1" in args.variants:
        print(table(results, f"{other.symbol}_test", "L1", args.horizons), "\n")
    for k, g in goal.items():
        print(
            f"k={k}: best {g['best']} {g['best_f1']:.3f} vs logreg {g['logreg']:.3f} "
            f"({g['margin_points']:+.1f} points): goal {'met' if g['met'] else 'NOT met'}"
        )
    print(f"CNN-LSTM longest fit {results['deeplob_max_fit_s']}s; total {results['total_s']:.0f}s")
    return results


if __name__ == "__main__":
    main(parse_args())
