"""Self-contained HTML reports: tables and matplotlib figures embedded in one file."""

from tradelearn.report.html import HtmlReport

__all__ = ["HtmlReport"]
