"""tradelearn: market data, an L3 book and simulator, alpha, execution and risk in one loop."""

__version__ = "0.1.0"
