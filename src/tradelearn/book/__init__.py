"""The L3 order book: a plain-Python reference and a compiled fast path held equal by tests."""
