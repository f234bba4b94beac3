"""HTTP routes, one module per resource: each decodes with :mod:`rundial_collector.web`,
transforms with a stage package and writes through the store.
"""
