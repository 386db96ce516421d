"""The engines and everything around a run, in three floors that import downwards only:

- `explorer.engines`: the searches (BFS, DFS, random walks, forked helpers), what they share
  (the run, the property monitor, results, storage encoding, progress) and the trace format;
- `explorer.traces`: what is done with a trace: replay, rendering, reports;
- `explorer.cli`: the `agree` command line, one module per command.

From Python, `explorer.engines.check.check(model, ...)` runs a search and returns a CheckResult.
"""
