import base64
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from tradelearn.errors import ConfigError
from tradelearn.report import HtmlReport


def test_report_embeds_figure_and_escapes_text(tmp_path):
    r = HtmlReport("T <1>")
    r.heading("Section & more")
    r.table([{"policy": "<twap>", "bps": 1.23456, "n": 1000}], decimals=3)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    r.figure(fig, caption="line")
    out = r.save(tmp_path / "sub" / "r.html")
    text = out.read_text()
    assert "T &lt;1&gt;" in text and "Section &amp; more" in text
    assert "&lt;twap&gt;" in text and "1.235" in text and "1,000" in text
    png = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert png is not None
    assert base64.b64decode(png.group(1))[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.n_figures == 1 and r.n_tables == 1
    assert not (tmp_path / "sub" / "r.html.tmp").exists()


def test_report_rejects_empty_table_and_bad_level():
    r = HtmlReport("x")
    with pytest.raises(ConfigError, match="at least one row"):
        r.table([])
    with pytest.raises(ConfigError, match="heading level"):
        r.heading("h", level=7)


def test_extend_merges_sections():
    a, b = HtmlReport("A"), HtmlReport("B")
    b.paragraph("from b")
    a.extend(b)
    assert "<h2>B</h2>" in a.render() and "from b" in a.render()
