"""Market simulation: historical replay and an agent-based market behind one API.

* :mod:`tradelearn.sim.replay`: our orders against recorded L3 flow (queue position,
  latency, fees, consumed-liquidity reconciliation, impact);
* :mod:`tradelearn.sim.agent_sim` over :mod:`tradelearn.sim.agents`: our orders in a
  calibrated agent-based market that reacts to them;
* :mod:`tradelearn.sim.generate`: synthetic days written as LOBSTER files;
* :mod:`tradelearn.sim.impact` and :mod:`tradelearn.sim.calibrate_impact`: the impact kernel;
* :mod:`tradelearn.sim.stylized` and :mod:`tradelearn.sim.metaorder`: stylized facts and
  the square-root law.
"""
