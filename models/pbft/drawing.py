"""How PBFT's steps draw in a sequence diagram: the normal case (section 4.2) and the view change
(section 4.4). A mixin of `Pbft`, kept apart so that the model's module holds only its rules."""

from __future__ import annotations

from agree.models.contract import Step


class PbftDrawing:
    """`chart`, `participants` and `actor` for Pbft and its view-change subclass."""

    def actor(self, name: str) -> str:
        """A replica as the diagram names it: Byzantine ones say so."""
        return f"{name} (Byzantine)" if name in self.faulty else name

    def participants(self) -> list[str]:
        return [self.actor(r) for r in self.names]

    def chart(self, step: Step) -> list[tuple]:
        a, act = step.args, step.action
        v = a.get("view", 0)
        if act == "PrePrepare":
            return [("note", self.actor(a["primary"]),
                     f"assigns n={a['seq']} to {a['request']}, multicasts PRE-PREPARE")]
        if act == "AcceptPrePrepare":
            return [("msg", self.actor(a["src"]), a["dst"], f"PRE-PREPARE(v{v}, n={a['seq']}, {a['request']})"),
                    ("note", a["dst"], f"accepts, multicasts PREPARE(n={a['seq']}, {a['request']})")]
        if act in ("Prepared", "CommitLocal"):
            kind = "PREPARE" if act == "Prepared" else "COMMIT"
            primary = self.names[self.primary(v)]
            events = [("msg", self.actor(r), a["replica"], f"{kind}(n={a['seq']}, {a['request']})")
                      for r in a["from"] if r in self.faulty and (kind == "COMMIT" or r != primary)]
            did = "prepared" if act == "Prepared" else "COMMITS"
            events.append(("note", a["replica"], f"{did} {a['request']} at n={a['seq']}"
                                                 f"{f' in v{v}' if v else ''} (quorum {', '.join(a['from'])})"))
            return events
        if act == "ViewChange":
            return [("note", a["replica"], f"multicasts VIEW-CHANGE(v{v}, P={{{', '.join(a['P'])}}})")]
        if act in ("NewView", "AcceptNewView"):
            o = ", ".join(f"n={n}: {r}" for n, r in enumerate(a["O"], 1))
            text = f"NEW-VIEW(v{v}{', V={' + ', '.join(a['V']) + '}' if 'V' in a else ''}, O={{{o}}})"
            if act == "NewView":
                return [("note", self.actor(a["primary"]), f"multicasts {text}, enters v{v}")]
            return [("msg", self.actor(a["src"]), a["dst"], text),
                    ("note", a["dst"], f"checks O against V, enters v{v}, multicasts PREPARE for each of O")]
        return super().chart(step)
