"""``tradelearn sentiment``: News sentiment: score text with the MiniLM head, Loughran-McDonald or VADER.

``sentiment score --file F`` scores each line of ``F`` (UTF-8, else ISO-8859-1; may be
gzipped); ``--json`` prints one JSON list with one object per line (``line``,
``label`` in negative/neutral/positive, ``score`` in [-1, 1]). Blank lines are
neutral with score 0. ``sentiment evaluate`` gives each scorer's macro-F1 on the
Financial PhraseBank (non-commercial data, evaluation only) per agreement level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradelearn import config
from tradelearn.cli.common import emit_json, err_console, out_console, resolve_input, run_guarded
from tradelearn.errors import ConfigError, DataError

app = typer.Typer(
    help="News sentiment: score text with the MiniLM head, Loughran-McDonald or VADER.",
    no_args_is_help=True,
)

ScorerOpt = Annotated[
    str, typer.Option("--scorer", help="minilm (embedding head), lm (Loughran-McDonald) or vader.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON value on stdout.")]
DEFAULT_CACHE = Path(".tradelearn") / "cache" / "embeddings"


def read_lines(path: Path) -> list[str]:
    """The lines of a text file (a final newline adds no line).

    Raises
    ------
    DataError
        The file is missing, unreadable, or binary (contains NUL bytes).
    """
    from tradelearn.data.validation import read_bytes

    if path.is_dir():
        raise DataError("is a folder", path=path, expected="a text file", got="a folder")
    try:
        data = read_bytes(path)
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc})", path=path) from exc
    if b"\x00" in data:
        row = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DataError(
            "binary data", path=path, row=row, expected="text, one item per line", got="NUL byte"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


@app.command("score")
def score(
    file: Annotated[str, typer.Option("--file", help="Text file: one text per line.")],
    scorer: ScorerOpt = "minilm",
    json_out: JsonOpt = False,
    device: Annotated[
        str | None, typer.Option("--device", help="MiniLM device (default: cuda if present).")
    ] = None,
) -> None:
    """Score each line of a file: label (negative/neutral/positive) and score in [-1, 1]."""

    def body() -> None:
        from tradelearn.sentiment.scorer import SCORERS, SentimentScore, make_scorer

        if scorer not in SCORERS:
            raise ConfigError(f"--scorer must be one of {', '.join(SCORERS)}, actually: {scorer!r}")
        lines = read_lines(resolve_input(file, "--file"))
        todo = [i for i, line in enumerate(lines) if line.strip()]
        options = {"device": device} if scorer == "minilm" else {}
        scored: list[SentimentScore] = []
        if todo:
            scored = make_scorer(scorer, **options).score([lines[i].strip() for i in todo])
        results = [SentimentScore("neutral", 0.0)] * len(lines)
        for i, s in zip(todo, scored, strict=True):
            results[i] = s
        rows = [
            {"line": i + 1, "label": s.label, "score": round(s.score, 6) + 0.0}
            for i, s in enumerate(results)
        ]
        if json_out:
            emit_json(rows)
            return
        from rich.table import Table

        table = Table(title=f"sentiment ({scorer}) of {file}")
        for col in ("line", "label", "score", "text"):
            table.add_column(col)
        for row, line in zip(rows, lines, strict=True):
            text = line if len(line) <= 80 else line[:77] + "..."
            table.add_row(str(row["line"]), str(row["label"]), f"{row['score']:+.3f}", text)
        out_console.print(table)

    run_guarded(body)


@app.command("evaluate")
def evaluate(
    scorers: Annotated[
        str, typer.Option("--scorers", help="Comma-separated scorers to evaluate.")
    ] = "minilm,lm,vader",
    cache: Annotated[
        Path, typer.Option("--cache", help="MiniLM embedding cache folder.")
    ] = DEFAULT_CACHE,
    json_out: JsonOpt = False,
) -> None:
    """Macro-F1 of each scorer on the Financial PhraseBank, per agreement level."""

    def body() -> None:
        from tradelearn.sentiment.evaluate import evaluate as run_eval
        from tradelearn.sentiment.evaluate import load_levels
        from tradelearn.sentiment.scorer import SCORERS

        names = [s.strip() for s in scorers.split(",") if s.strip()]
        unknown = [s for s in names if s not in SCORERS]
        if not names or unknown:
            raise ConfigError(
                f"--scorers must list names from {', '.join(SCORERS)}, actually: {scorers!r}"
            )
        base = config.data_dir(config_state_dir(), required=True)
        assert base is not None
        corpora = load_levels(base)
        err_console.print("PhraseBank: CC BY-NC-SA 3.0, evaluation only", highlight=False)
        result = run_eval(corpora, names, cache)
        summary = {
            name: {level: v["macro_f1"] for level, v in per.items() if isinstance(v, dict)}
            for name, per in result.items()
        }
        if json_out:
            emit_json(
                {
                    "macro_f1": summary,
                    "n_sentences": {k: len(c) for k, c in corpora.items()},
                    "detail": result,
                }
            )
            return
        from rich.table import Table

        levels = list(corpora)
        table = Table(title="Financial PhraseBank macro-F1")
        for col in ("scorer", *levels):
            table.add_column(col)
        for name, per in summary.items():
            table.add_row(name, *(f"{per[level]:.3f}" for level in levels))
        out_console.print(table)

    run_guarded(body)


def config_state_dir() -> Path | None:
    """The ``--data-dir`` given before the subcommand, if any."""
    from tradelearn.cli.common import state

    return state.data_dir
