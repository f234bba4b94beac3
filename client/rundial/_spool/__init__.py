"""The disk spool: its on-disk layout, writer directories, batch files, run files and orphan
runs. Imports :mod:`rundial._wire` and the bottom modules, never the pipeline above it.
"""
