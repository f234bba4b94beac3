"""The embedded default store: SQLite in WAL mode; all of its SQL lives in this package.
"""
