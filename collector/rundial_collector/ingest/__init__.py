"""Ingest transforms: request schemas and pure functions from decoded bodies to store
records (metric points, wide rows, log lines and spans), rejecting bad items one by one.
"""
