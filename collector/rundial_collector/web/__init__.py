"""The request boundary shared by every route: middleware, bounded bodies, JSON decoding,
error envelope, responses, paging, authentication and application keys.
"""
