"""etcd-raft: the Raft of etcd's raft library after its TLA+ module tla/etcdraft.tla (model.py
and its module doc), its server rules (rules.py), its receivers (receive.py) and its state and
configuration entries (state.py). `agree conform --format etcd-raft` checks etcd's traces
against it."""

from agree.models.etcd_raft.model import EtcdRaft

__all__ = ["EtcdRaft"]
