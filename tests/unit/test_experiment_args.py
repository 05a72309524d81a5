"""Tests of the dataclass-driven experiment command line."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tradelearn.errors import ConfigError
from tradelearn.experiment_args import field_docs, parse_dataclass_args


@dataclass
class Demo:
    """A settings class with one field of every kind the experiments use."""

    seed: int = 1
    """seed of everything"""
    budget_s: float = 60.0
    """wall-clock budget
    over two lines"""
    name: str = "ppo"
    progress: bool = False
    """show progress bars"""
    both_sides: bool = True
    """trade both sides"""
    limit: int | None = None
    """optional cap"""
    horizons: tuple[int, ...] = (10, 50)
    """label horizons"""
    skip: tuple[str, ...] = field(default_factory=tuple)
    """parts to skip"""


def test_field_docs_reads_the_string_under_each_field() -> None:
    docs = field_docs(Demo)
    assert docs["seed"] == "seed of everything"
    assert docs["budget_s"] == "wall-clock budget\n    over two lines"
    assert docs["limit"] == "optional cap"
    assert "name" not in docs  # no docstring under it
    assert set(docs) == {
        "seed",
        "budget_s",
        "progress",
        "both_sides",
        "limit",
        "horizons",
        "skip",
    }


def test_field_docs_of_a_class_defined_inside_a_function() -> None:
    @dataclass
    class Local:
        depth: int = 3
        """levels kept"""

    assert field_docs(Local) == {"depth": "levels kept"}


def test_defaults_come_back_when_no_flags_are_given() -> None:
    assert parse_dataclass_args(Demo, "demo", []) == Demo()


def test_every_kind_of_field_parses() -> None:
    args = parse_dataclass_args(
        Demo,
        "demo",
        [
            "--seed",
            "7",
            "--budget-s",
            "2.5",
            "--name",
            "dqn",
            "--progress",
            "--no-both-sides",
            "--limit",
            "4",
            "--horizons",
            "1",
            "2",
            "3",
            "--skip",
            "vol",
            "var",
        ],
    )
    assert args == Demo(
        seed=7,
        budget_s=2.5,
        name="dqn",
        progress=True,
        both_sides=False,
        limit=4,
        horizons=(1, 2, 3),
        skip=("vol", "var"),
    )
    assert isinstance(args.seed, int) and isinstance(args.budget_s, float)
    assert isinstance(args.limit, int)


def test_a_list_flag_with_no_values_gives_an_empty_tuple() -> None:
    assert parse_dataclass_args(Demo, "demo", ["--horizons"]).horizons == ()


def test_float_tuple_elements_follow_the_annotation() -> None:
    @dataclass
    class Tails:
        fractions: tuple[float, ...] = (0.05, 0.1)

    assert parse_dataclass_args(Tails, "t", ["--fractions", "0.2"]).fractions == (0.2,)


def test_unknown_flag_exits_with_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_dataclass_args(Demo, "demo", ["--nope", "1"])
    assert info.value.code == 2
    assert "--nope" in capsys.readouterr().err


def test_bad_value_exits_with_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_dataclass_args(Demo, "demo", ["--seed", "x"])
    assert info.value.code == 2
    assert "--seed" in capsys.readouterr().err


def test_help_lists_flags_docs_and_description(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_dataclass_args(Demo, "the demo experiment", ["--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "the demo experiment" in out
    assert "--budget-s BUDGET_S wall-clock budget over two lines" in out
    assert "--progress, --no-progress show progress bars" in out
    assert "--horizons [HORIZONS ...] label horizons" in out


def test_help_without_docs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_dataclass_args(Demo, "demo", ["--help"], help_from_docs=False)
    out = capsys.readouterr().out
    assert "--seed SEED" in out
    assert "seed of everything" not in out


def test_a_field_without_a_default_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    @dataclass
    class Needs:
        path: str

    assert parse_dataclass_args(Needs, "n", ["--path", "a.csv"]) == Needs(path="a.csv")
    with pytest.raises(SystemExit) as info:
        parse_dataclass_args(Needs, "n", [])
    assert info.value.code == 2
    assert "--path" in capsys.readouterr().err


def test_a_class_that_is_not_a_dataclass_is_refused() -> None:
    class Plain:
        seed: int = 0

    with pytest.raises(ConfigError, match="expected a dataclass type"):
        parse_dataclass_args(Plain, "p", [])
