"""Read-side transforms: query schemas, series reads, JSON/CSV rendering and span parent links.
"""
