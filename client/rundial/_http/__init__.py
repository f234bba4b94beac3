"""HTTP: the two-method transport, failure classification and retry, the JSON control calls
and ``rd.Client``. Imports only the SDK's bottom modules.
"""
