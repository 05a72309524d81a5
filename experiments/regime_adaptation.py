"""Market regimes on the shared index series: label stability across seeds and adaptation.

Run (6.5 minutes on a busy 2-core machine, one thread)::

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python experiments/regime_adaptation.py \\
        --out runs/regime_adaptation

It writes ``results.json`` (every number below) and ``report.html`` (regime shading on the
price, regime probabilities, the adaptation comparison).

1. Stability: for each series, model (GMM, HMM) and number of states K, fit with
   ``n_seeds`` seeds on the daily volatility and trend features of 1999-2018, align each
   fit to seed 0's by Hungarian matching, and report the agreement of the (smoothed)
   labels with seed 0's: mean and min over the other seeds, and min over every pair.
   Goal: at least 95%.
2. Adaptation: next-day log Garman-Klass variance forecast out of sample from 2004 (so
   2008 is in it) by a log-HAR regression: static, periodic refits, refit-on-drift
   (Page-Hinkley or ADWIN on the standardised errors or their absolute values),
   regime-aware (regressors interacted with filtered HMM regime probabilities) and
   regime-aware with refits on drift. QLIKE per strategy; each against static with a
   Diebold-Mariano test and a block-bootstrap 95% interval of the mean difference.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")


from tradelearn.config import data_dir
from tradelearn.data.daily import load_daily
from tradelearn.errors import ConfigError
from tradelearn.experiment_args import parse_dataclass_args
from tradelearn.regime.adapt import AdaptConfig, compare_strategies, walk_forward
from tradelearn.regime.features import daily_features
from tradelearn.regime.models import RegimeModel, seed_stability
from tradelearn.regime.report import adaptation_section, regime_section
from tradelearn.report.html import HtmlReport
from tradelearn.risk.realized import VolData, vol_data

SERIES_FILES = {
    "sp500": "daily_ohlcv/index_macro_arch/sp500.csv.gz",
    "nasdaq": "daily_ohlcv/index_macro_arch/nasdaq.csv.gz",
}


@dataclass
class Args:
    out: str = "runs/regime_adaptation"
    """folder for results.json and report.html"""
    series: tuple[str, ...] = ("sp500", "nasdaq")
    """index names (files under daily_ohlcv/index_macro_arch) or paths to daily OHLCV files"""
    models: tuple[str, ...] = ("gmm", "hmm")
    """regime models whose label stability is measured"""
    states: tuple[str, ...] = ("2", "3")
    """numbers of regimes K measured"""
    n_seeds: int = 20
    """seeds per stability measurement (seed 0 is the reference)"""
    n_init: int = 3
    """EM restarts per fit"""
    start: str = "2004-01-01"
    """first out-of-sample target day of the adaptation test"""
    window: int = 1000
    """rows per refit"""
    detectors: tuple[str, ...] = ("ph", "adwin")
    """drift detectors tried (each reported)"""
    monitors: tuple[str, ...] = ("abs_error", "error")
    """what the detector watches (each reported): |z| - E|z| or the standardised error z"""
    regime_kind: str = "hmm"
    """regime model of the regime-aware strategies"""
    regime_states: int = 2
    """regimes of the regime-aware strategies (and of the report's shading)"""
    seed: int = 0
    """seed of the regime models and of the bootstrap"""
    n_boot: int = 2000
    """bootstrap resamples"""
    skip: tuple[str, ...] = ()
    """parts to skip: stability, adapt, report"""


def parse_args() -> Args:
    return parse_dataclass_args(Args, (__doc__ or "").split("\n")[0], help_from_docs=False)


def load_series(name: str) -> VolData:
    if name in SERIES_FILES:
        root = data_dir(required=True)
        assert root is not None
        return vol_data(load_daily(root / SERIES_FILES[name]))
    path = Path(name)
    if not path.exists():
        raise ConfigError(f"series must be sp500, nasdaq or an existing file, actually: {name!r}")
    return vol_data(load_daily(path))


def stability(args: Args, data: VolData) -> list[dict[str, Any]]:
    feats = daily_features(data)
    rows = []
    for kind in args.models:
        for k in (int(s) for s in args.states):
            t0 = time.perf_counter()
            st = seed_stability(
                feats.values,
                kind,
                k,
                range(args.seed, args.seed + args.n_seeds),
                n_init=args.n_init,
            )
            rows.append(
                {
                    "series": data.symbol,
                    "model": kind,
                    "states": k,
                    "seeds": args.n_seeds,
                    "mean": st.mean,
                    "min": st.min,
                    "pairwise_min": st.pairwise_min,
                    "unaligned_mean": st.unaligned_mean,
                    "meets_95": st.min >= 0.95,
                    "seconds": time.perf_counter() - t0,
                }
            )
            print(
                f"  stability {data.symbol} {kind} K={k}: mean {st.mean:.4f} min {st.min:.4f} "
                f"pairwise min {st.pairwise_min:.4f} (unaligned {st.unaligned_mean:.3f})",
                flush=True,
            )
    return rows


def adaptation(args: Args, data: VolData, report: HtmlReport | None) -> list[dict[str, Any]]:
    out = []
    for det in args.detectors:
        for mon in args.monitors:
            cfg = AdaptConfig(
                start=args.start, window=args.window, detector=det, monitor=mon,
                regime_kind=args.regime_kind, n_states=args.regime_states, seed=args.seed,
                n_init=args.n_init,
            )  # fmt: skip
            res = walk_forward(data, cfg)
            cmp = compare_strategies(res, n_boot=args.n_boot, seed=args.seed)
            cmp["refit_dates"] = res.refits
            cmp["refit_dates"].pop("periodic")
            out.append(cmp)
            rows = cmp["strategies"]
            print(f"  adapt {data.symbol} detector={det} monitor={mon}:", flush=True)
            for s, r in rows.items():
                extra = ""
                if "dm_p" in r:
                    lo, hi = r["diff_ci95"]
                    extra = (
                        f" ratio {r['qlike_ratio_to_static']:.4f} diff {r['diff_vs_static']:+.4f} "
                        f"[{lo:+.4f}, {hi:+.4f}] DM p={r['dm_p']:.4f}"
                    )
                print(f"    {s:13s} QLIKE {r['qlike']:.4f} refits {r['refits']:4d}{extra}")
            if report is not None and det == args.detectors[0] and mon == args.monitors[0]:
                report.extend(adaptation_section(res, cmp))
    return out


def main() -> None:
    args = parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = None if "report" in args.skip else HtmlReport("Market regimes and adaptation")
    results: dict[str, Any] = {"args": dataclasses.asdict(args), "stability": [], "adaptation": []}
    t0 = time.perf_counter()
    for name in args.series:
        data = load_series(name)
        print(f"{data.symbol}: {len(data)} days {data.dates[0]}..{data.dates[-1]}", flush=True)
        if "stability" not in args.skip:
            results["stability"].extend(stability(args, data))
        if report is not None:
            feats = daily_features(data)
            m = RegimeModel(
                args.regime_kind, args.regime_states, seed=args.seed, n_init=args.n_init
            )
            report.extend(regime_section(feats, m.fit(feats.values), symbol=data.symbol))
        if "adapt" not in args.skip:
            results["adaptation"].extend(adaptation(args, data, report))
    results["seconds"] = time.perf_counter() - t0
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    if report is not None:
        report.save(out / "report.html")
    stab = results["stability"]
    if stab:
        worst = min(stab, key=lambda r: r["min"])
        print(
            f"stability: {sum(r['meets_95'] for r in stab)}/{len(stab)} settings reach 95% "
            f"(worst: {worst['series']} {worst['model']} K={worst['states']} min {worst['min']:.4f})"
        )
    print(f"wrote {out / 'results.json'} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
