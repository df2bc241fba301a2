"""What a MongoDB change event says about run times, in both shapes servers send: MongoDB's
(the fields an update set) and a whole document (the nx-27017 test server)."""

from __future__ import annotations

from datetime import datetime, timezone

from asyncz_like.stores.feeds import _next_run_time_of, decode_time, encode_time

AT = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def test_an_update_that_sets_a_run_time_makes_it_due() -> None:
    change = {"operationType": "update", "updateDescription": {"updatedFields": {"next_run_time": AT.timestamp()}}}
    assert _next_run_time_of(change) == AT


def test_a_claim_or_renewal_wakes_nobody() -> None:
    mongodb = {
        "operationType": "update",
        "updateDescription": {"updatedFields": {"claimed_by": "a", "claim_expires": 1.0}},
    }
    whole = {
        "operationType": "update",
        "updateDescription": None,
        "fullDocument": {"next_run_time": AT.timestamp(), "claimed_by": "a"},
    }
    assert _next_run_time_of(mongodb) is None
    assert _next_run_time_of(whole) is None


def test_a_whole_unclaimed_document_is_read_for_its_run_time() -> None:
    released = {
        "operationType": "update",
        "updateDescription": None,
        "fullDocument": {"next_run_time": AT.timestamp(), "claimed_by": None},
    }
    assert _next_run_time_of(released) == AT
    assert _next_run_time_of({"operationType": "insert", "fullDocument": {"next_run_time": AT.timestamp()}}) == AT
    assert _next_run_time_of({"operationType": "delete"}) is None


def test_announcements_carry_the_run_time_exactly_and_bad_ones_mean_look_again() -> None:
    assert decode_time(encode_time(AT)) == AT
    assert decode_time(encode_time(AT).encode()) == AT
    assert decode_time("not a time") is None
