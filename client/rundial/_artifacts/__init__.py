"""Artifacts: the crash-safe job journal, the uploader and its threads, the HTTP control
calls and transfers, and the handle ``run.use_artifact`` returns.
"""
