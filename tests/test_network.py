"""The message bag of models.network: canonical, hashable, pure."""

import pytest

from agree.models import network


def test_send_counts_copies_and_keeps_the_bag_sorted():
    bag = network.send_all(network.EMPTY, [("b", 1), ("a", 2), ("b", 1)])
    assert bag == ((("a", 2), 1), (("b", 1), 2))
    assert network.count(bag, ("b", 1)) == 2 and network.count(bag, ("c",)) == 0
    assert network.size(bag) == 3
    assert network.messages(bag) == (("a", 2), ("b", 1))


def test_equal_multisets_are_equal_bags_whatever_the_order():
    one = network.from_messages([("x",), ("y",), ("x",)])
    two = network.from_messages([("y",), ("x",), ("x",)])
    assert one == two and hash(one) == hash(two)


def test_consume_removes_one_copy_and_the_pair_at_zero():
    bag = network.from_messages([("m",), ("m",)])
    once = network.consume(bag, ("m",))
    assert once == ((("m",), 1),)
    assert network.consume(once, ("m",)) == network.EMPTY
    assert bag == ((("m",), 2),)  # pure: the argument is unchanged


def test_removals_take_one_copy_of_each_distinct_message_in_order():
    bag = network.from_messages([("b",), ("a",), ("b",), ("c",)])
    taken = network.removals(bag)
    assert [m for m, _ in taken] == [("a",), ("b",), ("c",)]
    assert taken[0][1] == network.from_messages([("b",), ("b",), ("c",)])
    assert taken[1][1] == network.from_messages([("a",), ("b",), ("c",)])  # one copy of two left
    assert all(rest == network.consume(bag, m) for m, rest in taken)
    assert network.removals(network.EMPTY) == []


def test_consuming_a_message_not_in_flight_is_an_error():
    with pytest.raises(ValueError):
        network.consume(network.EMPTY, ("m",))


def test_reply_duplicate_drop():
    bag = network.from_messages([("req",)])
    assert network.reply(bag, ("req",), ("resp",)) == ((("resp",), 1),)
    assert network.duplicate(bag, ("req",)) == ((("req",), 2),)
    assert network.drop(bag, ("req",)) == network.EMPTY


def test_rename_resorts():
    bag = network.from_messages([(1, "a"), (2, "b")])
    renamed = network.rename(bag, lambda m: (3 - m[0], m[1]))
    assert renamed == (((1, "b"), 1), ((2, "a"), 1))
