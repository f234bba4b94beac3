"""Producers besides ``run.log``: spans, span attributes and evidence, console capture and
system metrics. They enqueue records; they never do I/O on the caller's thread.
"""
