"""The wire format: record kinds on the run's queue, log records, metric keys and the gzip'd
wide-row or columnar metric ingest bodies (docs/protocol.md §4). Imports only the SDK's bottom
modules.
"""
