"""Storage behind one async interface; all SQL lives in this package."""
