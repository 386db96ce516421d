"""`--backend ray --address` where no cluster answers is refused at once, in one line (exit 2):
Ray itself would retry for half a minute, ignoring the time limit and Ctrl-C meanwhile."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("address, said", [("127.0.0.1:1", "no Ray cluster answers at 127.0.0.1:1"),
                                           ("nosuchhost.invalid:6379", "no Ray cluster answers"),
                                           ("garbage", "is not HOST:PORT"),
                                           ("127.0.0.1:99999", "is not HOST:PORT")])
def test_an_address_where_nothing_answers_is_one_line(agree, monkeypatch, address, said):
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    ran = agree("check", "twophase", "-p", "rms=2", "--backend", "ray", "--address", address, "--time-limit", "20")
    assert ran.code == 2 and said in ran.err and "Traceback" not in ran.err, ran.err
    assert "model" not in ran.err.split("error:")[-1].split("(")[0]  # agree's input, not the model's fault
