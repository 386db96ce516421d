"""The modelling contract and the protocol library, installed as `agree.models`.

Write a model of your own with what the public face exports (`from agree import Model, Param,
Step, invariant, transition, reachable, update, put`); the built-in models live here, one module or
package each (`from agree.models.raft import Raft`), and `registry` resolves names to them.
"""
