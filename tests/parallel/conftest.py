"""Fixtures for the parallel tests: a clean parallel context, and a pretend rank of a group."""
import pytest

import msparam.communication.management as management
from msparam.parallel import reset_auto_parallel_context, set_auto_parallel_context


class PretendRank:
    """Rank ``rank`` of ``size`` for code that only asks the group who it is (no messages)."""

    def __init__(self, rank, size):
        self.rank, self.size = rank, size


@pytest.fixture
def parallel_mode():
    set_auto_parallel_context(parallel_mode="semi_auto_parallel")
    yield
    reset_auto_parallel_context()


@pytest.fixture
def as_rank(monkeypatch):
    """``as_rank(r, n)``: from now on this process answers get_rank() = r, get_group_size() = n."""
    def pretend(rank, size):
        monkeypatch.setattr(management, "_world_group", PretendRank(rank, size))
    return pretend
