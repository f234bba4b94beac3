"""HTTP: the two-method transport, failure classification and retry, the one JSON-call layer
(request, error envelope, classification) and ``rd.Client``. Imports only the SDK's bottom modules.
"""
