"""Artifacts and blobs: request models, shared runtime state, JSON views, the blob store
interface and its local-directory backend, staging, sweeping and URL signing.
"""
