"""Market simulation: the synthetic market now; replay and agent-based exchange later."""
