"""A run's background pipeline: the worker drains the queue, encodes batches, spools them,
sends them, registers the run and keeps it alive. Imports the spool, wire and HTTP stages.
"""
