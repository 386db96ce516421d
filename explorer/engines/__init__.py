"""The searches, one room per concern, and what every search shares.

Rooms:
- `strategies`: breadth-first, depth-first, random walks, and shrinking (which re-runs steps);
- `parallel`: the partitioned breadth-first search and its backends (processes here, Ray actors);
- `storage`: visited sets (exact, fingerprints), packed states, checkpoints, handing memory back;
- `liveness`: the kept state graph, its fair cycles and dead ends, and the verdicts on it;
- `fuzzing`: the Hypothesis bridge, its guide and its defaults;
- `conformance`: a real system's log followed through a model (sets of candidate states), and
  the adapters that read each log format.

Shared, beside the rooms: `check` (the one entry point), `options` (what a search is asked to
do, as values: Options with Bounds, Parallel and Storage), `run` (counters, the clock, stop
reasons), `result` (bounds and verdicts), `monitor` (property checks as states are visited),
`path` (the in-memory trace and its rebuilding), `diagnose` (errors in model code), `encoding`
(states as JSON data), `interrupts`, `watchdog` (a time limit that holds against model code that
does not return) and `progress`.
"""
