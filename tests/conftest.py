"""pytest set-up shared by every test module."""

# Scripts run in subprocesses by the tests; importing them (as
# --doctest-modules would) sets environment variables for the whole run.
collect_ignore = ["cross_backend_worker.py", "distribution_worker.py", "model_parallel_worker.py"]
