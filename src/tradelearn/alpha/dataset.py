"""Alpha datasets with explicit time segments, train-fitted processors and purged splits.

An :class:`AlphaDataset` is a panel of samples, each with a feature row, a label, the day
it is known (``dates``), the instrument (``symbols``) and the last day its label looks at
(``label_end``). Samples are split by time into train, valid and test segments
(:class:`Segments`, or the expanding-window :func:`walk_forward_splits`). Two guards keep
the future out of training:

* **purging** drops a training (or validation) sample whose label window
  ``[date, label_end]`` reaches into a later segment, so no training label is computed
  from prices of the segment it is scored on;
* an **embargo** of ``embargo`` trading days widens each later segment on both sides
  before that check, leaving a gap of at least ``embargo`` days between the last
  training label and the first test day.

Processors (:class:`FillNaN`, :class:`ZScore`, :class:`RobustZScore`, :class:`CSRank`)
learn their statistics from the training segment only and are then applied unchanged to
the valid and test segments (:func:`prepare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError, DataError

__all__ = [
    "AlphaDataset",
    "CSRank",
    "FillNaN",
    "Processor",
    "RobustZScore",
    "SegmentData",
    "Segments",
    "Split",
    "ZScore",
    "cs_rank",
    "prepare",
    "purge_mask",
    "split_segments",
    "walk_forward_splits",
]

Dates = NDArray[np.datetime64]


def _day(value: Any, name: str) -> np.datetime64:
    try:
        return np.datetime64(value, "D")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name} must be a date like 2016-01-01, actually: {value!r}") from exc


@dataclass(frozen=True)
class AlphaDataset:
    """A panel of samples: features, labels, and when and whom each describes.

    Attributes
    ----------
    X
        Features, ``(n, features)`` or ``(n, window, features)``.
    y
        Training labels (class ids or values), ``(n,)``.
    dates
        Day each sample is known (``datetime64[D]``), ``(n,)``.
    symbols
        Instrument of each sample, ``(n,)``.
    label_end
        Last day whose prices enter the label, ``(n,)``; ``>= dates``.
    target
        The raw quantity to score predictions against (e.g. the forward return); defaults
        to ``y``.
    feature_names
        One name per feature.
    """

    X: NDArray[np.float64]
    y: NDArray[Any]
    dates: Dates
    symbols: NDArray[Any]
    label_end: Dates
    target: NDArray[np.float64] | None = None
    feature_names: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        n = self.X.shape[0] if self.X.ndim >= 1 else -1
        arrays = {"y": self.y, "dates": self.dates, "symbols": self.symbols}
        arrays["label_end"] = self.label_end
        if self.target is not None:
            arrays["target"] = self.target
        for name, arr in arrays.items():
            if np.shape(arr) != (n,):
                raise DataError(
                    "dataset arrays differ in length",
                    field=name,
                    expected=f"shape ({n},) like X",
                    got=np.shape(arr),
                )
        if self.X.ndim not in (2, 3):
            raise DataError("X must be 2-D or 3-D", field="X", expected="2 or 3", got=self.X.ndim)
        if self.feature_names and len(self.feature_names) != self.X.shape[-1]:
            raise DataError(
                "one name per feature",
                field="feature_names",
                expected=str(self.X.shape[-1]),
                got=len(self.feature_names),
            )
        if n and np.any(self.label_end < self.dates):
            i = int(np.flatnonzero(self.label_end < self.dates)[0])
            raise DataError(
                "label ends before its sample is known",
                row=i,
                field="label_end",
                expected=f">= {self.dates[i]}",
                got=str(self.label_end[i]),
            )

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def days(self) -> Dates:
        """Distinct days, sorted."""
        return np.unique(self.dates)

    def take(self, idx: NDArray[np.int64]) -> SegmentData:
        """The samples at ``idx`` (ascending positions) as a :class:`SegmentData`."""
        return SegmentData(
            X=self.X[idx],
            y=self.y[idx],
            target=(self.y if self.target is None else self.target)[idx].astype(np.float64),
            dates=self.dates[idx],
            symbols=self.symbols[idx],
            index=idx,
        )


@dataclass(frozen=True)
class SegmentData:
    """The arrays of one segment (``index`` gives their positions in the dataset)."""

    X: NDArray[np.float64]
    y: NDArray[Any]
    target: NDArray[np.float64]
    dates: Dates
    symbols: NDArray[Any]
    index: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.X.shape[0])


@dataclass(frozen=True)
class Segments:
    """Inclusive date ranges ``(start, end)``; train before valid before test.

    ``valid`` may be ``None`` (no early stopping segment).
    """

    train: tuple[str, str]
    test: tuple[str, str]
    valid: tuple[str, str] | None = None

    def bounds(self) -> dict[str, tuple[np.datetime64, np.datetime64]]:
        """The segments as ``{name: (start, end)}`` days, checked to be ordered and disjoint."""
        out: dict[str, tuple[np.datetime64, np.datetime64]] = {}
        for name in ("train", "valid", "test"):
            rng = getattr(self, name)
            if rng is None:
                continue
            a, b = _day(rng[0], f"{name} start"), _day(rng[1], f"{name} end")
            if b < a:
                raise ConfigError(f"segment {name}: end {b} is before start {a}")
            out[name] = (a, b)
        names = list(out)
        for first, second in pairwise(names):
            if out[second][0] <= out[first][1]:
                raise ConfigError(
                    f"segment {second} must start after {first} ends ({out[first][1]}), "
                    f"actually: {out[second][0]}"
                )
        return out


@dataclass(frozen=True)
class Split:
    """Positions of one walk-forward split's segments (``valid`` may be empty)."""

    name: str
    train: NDArray[np.int64]
    valid: NDArray[np.int64]
    test: NDArray[np.int64]


def purge_mask(
    dates: Dates,
    label_end: Dates,
    start: np.datetime64,
    end: np.datetime64,
    embargo: int = 0,
    calendar: Dates | None = None,
) -> NDArray[np.bool_]:
    """True for samples whose label window stays clear of ``[start, end]``.

    The window is widened by ``embargo`` trading days of ``calendar`` (default: the
    distinct ``dates``) on both sides. A sample is clear when ``label_end`` is before the
    widened start or ``date`` after the widened end.
    """
    if embargo < 0:
        raise ConfigError(f"embargo must be >= 0 trading days, actually: {embargo}")
    cal = np.unique(dates) if calendar is None else calendar
    lo, hi = start, end
    if embargo and len(cal):
        i = int(np.searchsorted(cal, start, side="left"))
        lo = cal[min(max(i - embargo, 0), len(cal) - 1)]
        j = int(np.searchsorted(cal, end, side="right")) - 1
        hi = cal[min(max(j + embargo, 0), len(cal) - 1)]
    clear: NDArray[np.bool_] = (label_end < lo) | (dates > hi)
    return clear


def _positions(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    return np.flatnonzero(mask).astype(np.int64)


def split_segments(ds: AlphaDataset, segments: Segments, embargo: int = 0) -> Split:
    """Positions of each segment, purged (and embargoed) against every later segment."""
    b = segments.bounds()
    cal = ds.days
    masks = {k: (ds.dates >= a) & (ds.dates <= e) for k, (a, e) in b.items()}
    names = list(b)
    for i, name in enumerate(names):
        for later in names[i + 1 :]:
            a, e = b[later]
            masks[name] &= purge_mask(ds.dates, ds.label_end, a, e, embargo, cal)
    empty = np.zeros(0, dtype=np.int64)
    split = Split(
        name=f"test {b['test'][0]}..{b['test'][1]}",
        train=_positions(masks["train"]),
        valid=_positions(masks["valid"]) if "valid" in masks else empty,
        test=_positions(masks["test"]),
    )
    for k in ("train", "test"):
        if len(getattr(split, k)) == 0:
            raise ConfigError(f"segment {k} {b[k][0]}..{b[k][1]} holds no samples after purging")
    return split


def walk_forward_splits(
    ds: AlphaDataset,
    test_periods: Sequence[tuple[str, str]],
    valid_days: int = 252,
    embargo: int = 0,
    train_start: str | None = None,
) -> list[Split]:
    """Expanding-window splits: each test period is trained only on earlier data.

    For each ``(start, end)`` test period, the last ``valid_days`` trading days before
    ``start`` form the valid segment and everything earlier (from ``train_start``) the
    training segment; both are purged against the segments after them.
    """
    if valid_days < 0:
        raise ConfigError(f"valid_days must be >= 0, actually: {valid_days}")
    if not test_periods:
        raise ConfigError("test_periods must name at least one (start, end) period")
    cal = ds.days
    first = cal[0] if train_start is None else _day(train_start, "train_start")
    splits = []
    for start, end in test_periods:
        t0 = _day(start, "test start")
        before = cal[(cal < t0) & (cal >= first)]
        if len(before) <= valid_days:
            raise ConfigError(
                f"test period starting {t0}: only {len(before)} trading days before it, "
                f"need more than valid_days={valid_days}"
            )
        train_end = before[-valid_days - 1] if valid_days else before[-1]
        valid = (str(before[-valid_days]), str(before[-1])) if valid_days else None
        segs = Segments(train=(str(first), str(train_end)), valid=valid, test=(start, end))
        splits.append(split_segments(ds, segs, embargo))
    return splits


# ------------------------------------------------------------------------ processors


class Processor(Protocol):
    """A feature transform whose statistics come from the training segment only."""

    def fit(self, X: NDArray[np.float64], dates: Dates) -> Processor:
        """Learn statistics from training features ``X`` (rows known on ``dates``)."""
        ...

    def transform(self, X: NDArray[np.float64], dates: Dates) -> NDArray[np.float64]:
        """Apply the learned transform (a new array)."""
        ...


def _flat(X: NDArray[np.float64]) -> NDArray[np.float64]:
    return X.reshape(-1, X.shape[-1])


class FillNaN:
    """Replace NaN by a constant, or by each feature's training median (``value=None``)."""

    def __init__(self, value: float | None = 0.0) -> None:
        self.value = value
        self.fill: NDArray[np.float64] | None = None

    def fit(self, X: NDArray[np.float64], dates: Dates) -> FillNaN:
        f = _flat(X)
        if self.value is None:
            med = np.full(f.shape[1], 0.0)
            ok = ~np.all(np.isnan(f), axis=0)
            med[ok] = np.nanmedian(f[:, ok], axis=0)
            self.fill = med
        else:
            self.fill = np.full(f.shape[1], float(self.value))
        return self

    def transform(self, X: NDArray[np.float64], dates: Dates) -> NDArray[np.float64]:
        if self.fill is None:
            raise ConfigError("FillNaN is not fitted: call fit on the training segment first")
        out = np.array(X, dtype=np.float64)
        bad = np.isnan(out)
        out[bad] = np.broadcast_to(self.fill, out.shape)[bad]
        return out


class ZScore:
    """Subtract the training mean and divide by the training standard deviation."""

    def __init__(self, clip: float | None = None) -> None:
        self.clip = clip
        self.center: NDArray[np.float64] | None = None
        self.scale: NDArray[np.float64] | None = None

    def _stats(self, f: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return np.nanmean(f, axis=0), np.nanstd(f, axis=0)

    def fit(self, X: NDArray[np.float64], dates: Dates) -> ZScore:
        f = _flat(X)
        ok = np.sum(~np.isnan(f), axis=0) > 1
        center, scale = np.zeros(f.shape[1]), np.ones(f.shape[1])
        if ok.any():
            c, s = self._stats(f[:, ok])
            center[ok], scale[ok] = c, np.where(s > 0, s, 1.0)
        self.center, self.scale = center, scale
        return self

    def transform(self, X: NDArray[np.float64], dates: Dates) -> NDArray[np.float64]:
        if self.center is None or self.scale is None:
            raise ConfigError(f"{type(self).__name__} is not fitted: call fit on training first")
        out = (np.asarray(X, dtype=np.float64) - self.center) / self.scale
        if self.clip is not None:
            out = np.clip(out, -self.clip, self.clip)
        return out


class RobustZScore(ZScore):
    """Center on the training median, scale by 1.4826 x MAD, clip at ``clip`` (qlib style)."""

    def __init__(self, clip: float | None = 3.0) -> None:
        super().__init__(clip)

    def _stats(self, f: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        med = np.nanmedian(f, axis=0)
        return med, 1.4826 * np.nanmedian(np.abs(f - med), axis=0)


def cs_rank(values: NDArray[np.float64], dates: Dates) -> NDArray[np.float64]:
    """Rank each column within each day, scaled to ``[-0.5, 0.5]`` (ties averaged, NaN kept).

    ``values`` is ``(n,)`` or ``(n, features)``; a day with one valid value gets 0.
    """
    from scipy.stats import rankdata  # type: ignore[import-untyped, unused-ignore]

    v = np.asarray(values, dtype=np.float64)
    two = v.reshape(v.shape[0], -1)
    out = np.full_like(two, np.nan)
    order = np.argsort(dates, kind="stable")
    d = dates[order]
    cuts = np.flatnonzero(d[1:] != d[:-1]) + 1
    for grp in np.split(order, cuts):
        block = two[grp]
        valid = ~np.isnan(block)
        count = valid.sum(axis=0)
        r = rankdata(np.where(valid, block, np.inf), axis=0, method="average")
        scaled = np.where(count > 1, (r - 1) / np.maximum(count - 1, 1) - 0.5, 0.0)
        out[grp] = np.where(valid, scaled, np.nan)
    return out.reshape(v.shape)


class CSRank:
    """Cross-sectional rank per day (stateless: nothing is learned, so nothing leaks)."""

    def fit(self, X: NDArray[np.float64], dates: Dates) -> CSRank:
        return self

    def transform(self, X: NDArray[np.float64], dates: Dates) -> NDArray[np.float64]:
        if X.ndim != 2:
            raise DataError("CSRank needs tabular features", field="X", expected="2-D", got=X.ndim)
        return cs_rank(X, dates)


def prepare(
    ds: AlphaDataset,
    split: Split,
    processors: Sequence[Processor] = (),
) -> dict[str, SegmentData]:
    """The split's segments with ``processors`` fitted on the training segment only.

    Processors run in order: each is fitted on the training features as transformed by the
    ones before it, then applied to every segment.
    """
    parts = {"train": split.train, "valid": split.valid, "test": split.test}
    data = {k: ds.take(idx) for k, idx in parts.items()}
    train = data["train"]
    if len(train) == 0:
        raise ConfigError(f"split '{split.name}' has an empty training segment")
    X = {k: d.X for k, d in data.items()}
    for proc in processors:
        proc.fit(X["train"], train.dates)
        X = {k: proc.transform(x, data[k].dates) if len(x) else x for k, x in X.items()}
    return {
        k: SegmentData(X[k], d.y, d.target, d.dates, d.symbols, d.index) for k, d in data.items()
    }
