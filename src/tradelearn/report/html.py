"""One-file HTML reports with embedded figures.

Every stage writes its report section through :class:`HtmlReport`: headings, paragraphs,
tables (a list of rows, each a mapping from column to value) and matplotlib figures, which
are rendered to PNG and embedded as base64 data, so the file opens anywhere without its
neighbours. Text is escaped; numbers are formatted with a fixed number of decimals.

Example::

    report = HtmlReport("Execution")
    report.heading("Comparison")
    report.table([{"policy": "twap", "shortfall bps": 3.1}])
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    report.figure(fig, caption="A line")
    report.save("out/report.html")
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tradelearn.errors import ConfigError

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 1.6em; border-bottom: 1px solid #bbb; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #555; }
img { max-width: 100%; }
"""


def _cell(value: Any, decimals: int) -> str:
    if isinstance(value, bool) or value is None:
        return html.escape(str(value))
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:,.{decimals}f}"
    return html.escape(str(value))


class HtmlReport:
    """An HTML document built section by section, saved as one self-contained file."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._parts: list[str] = [f"<h1>{html.escape(title)}</h1>"]
        self.n_figures = 0
        self.n_tables = 0

    def heading(self, text: str, level: int = 2) -> None:
        """A section heading (``level`` 2 to 4)."""
        if level not in (2, 3, 4):
            raise ConfigError(f"heading level must be 2, 3 or 4, actually: {level}")
        self._parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str) -> None:
        """A paragraph of plain text (escaped)."""
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def table(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        decimals: int = 2,
    ) -> None:
        """A table with one row per mapping; ``columns`` default to the first row's keys."""
        if not rows:
            raise ConfigError("a report table needs at least one row")
        cols = list(columns) if columns is not None else list(rows[0].keys())
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(r.get(c), decimals)}</td>" for c in cols) + "</tr>"
            for r in rows
        )
        self._parts.append(f"<table><tr>{head}</tr>{body}</table>")
        self.n_tables += 1

    def figure(self, fig: Any, caption: str = "", dpi: int = 90) -> None:
        """Embed a matplotlib figure as a PNG (the figure is closed afterwards)."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">{cap}</figure>'
        )
        self.n_figures += 1

    def extend(self, other: HtmlReport) -> None:
        """Append another report's sections (its title becomes a heading)."""
        self._parts.append(f"<h2>{html.escape(other.title)}</h2>")
        self._parts.extend(other._parts[1:])
        self.n_figures += other.n_figures
        self.n_tables += other.n_tables

    def render(self) -> str:
        """The whole document as a string."""
        body = "\n".join(self._parts)
        return (
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n"
        )

    def save(self, path: str | Path) -> Path:
        """Write the document atomically (temporary file, then rename); returns the path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(self.render(), encoding="utf-8")
        os.replace(tmp, p)
        return p
