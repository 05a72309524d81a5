"""Risk: pre-trade controls that work without any model (and, later, forecasts and VaR)."""
