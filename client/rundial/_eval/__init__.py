"""Eval suites and eval runs: ``rd.eval.suite(...)`` and ``suite.run(...)`` (v1 doc §9)."""
