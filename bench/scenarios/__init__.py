"""Collector scenarios: each starts a fresh collector process, puts a simulated fleet against
it from this process, and prints a table of figures with the issue's goals.

    python -m bench.scenarios {steady,enrol,inventory,reconnect,fanout} [--agents N]
        [--backend sqlite|postgres] [--duration S] [--json [FILE]]

- ``steady``: N agents connected, heartbeat 30 s, health 60 s, for a measured window;
- ``enrol``: N new agents enrolling at once;
- ``inventory``: N full inventories (~700 packages each) at once;
- ``reconnect``: the collector restarts with N agents connected;
- ``fanout``: one command queued for each of N connected agents, until all are acknowledged.

``--json`` writes the figures (default ``docs/benchmarks/SCENARIO-BACKEND-N.json``), from which
``python -m bench.benchmarks_doc`` regenerates ``docs/benchmarks.md``.
"""
