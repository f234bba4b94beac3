"""The run users hold: ``rd.init``, the ``log`` hot path, the run's lifecycle, its end and
its producers, and the process-level hooks (exit, fork, signals, rank). The top stage of the SDK.
"""
