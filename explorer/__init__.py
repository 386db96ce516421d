"""The engines and everything around a run: search strategies, traces, rendering, the CLI."""
