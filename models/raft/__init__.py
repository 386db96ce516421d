"""Raft (Ongaro & Ousterhout 2014): the model in `model.py`, its receivers in `receive.py`, its
state and messages in `state.py`, symmetry in `symmetry.py`, broken variants in `variants.py`,
election liveness in `liveness.py`, membership changes (`-p reconfig=single|joint`) in
`membership.py`.

What a variant in a user's file may use (all public): the rule methods of `Raft` (timeout,
restart, become_leader, client_request, advance_commit_index, commit_by_counting, append_entries,
receive, update_term, up_to_date, the four handle_* handlers, log_matches, merged_log,
duplicate_message, drop_message), the state helpers every model shares (`update`, `update_at`,
`put` from `agree`: they keep the state's type, so a subclass may add fields), and the names below.
"""

from agree.models.raft.model import Raft
from agree.models.raft.membership import RaftMembership
from agree.models.raft.state import (AE_REQ, AE_RESP, CANDIDATE, FOLLOWER, LEADER, NO_VOTES, RV_REQ, RV_RESP,
                               AppendEntriesRequest, AppendEntriesResponse, RaftState, RequestVoteRequest,
                               RequestVoteResponse, last_log_term)
from agree.models.records import put, update, update_at
from agree.models.raft import liveness, variants  # register the variants on Raft

__all__ = ["Raft", "RaftMembership", "RaftState", "RequestVoteRequest", "RequestVoteResponse", "AppendEntriesRequest",
           "AppendEntriesResponse", "FOLLOWER", "CANDIDATE", "LEADER", "NO_VOTES", "RV_REQ", "RV_RESP",
           "AE_REQ", "AE_RESP", "last_log_term", "put", "update", "update_at", "liveness", "variants"]
