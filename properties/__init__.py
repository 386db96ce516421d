"""What must hold: protocol-independent predicates over plain data, and quorum systems.

Nothing here imports `models` or `explorer`; both of those import from here.
"""
