"""The live event stream of a run (docs/protocol.md §6): the hub, one pump per watched run
and the wire messages.
"""
