import pytest

from tests.helpers import Sandbox, settings_for


@pytest.fixture(scope="session")
def sandbox():
    sb = Sandbox()
    yield sb
    sb.stop()


@pytest.fixture
def fresh(sandbox):
    """The shared sandbox, reset to its seed with no faults (for tests that write)."""
    sandbox.reset()
    yield sandbox
    sandbox.clear_faults()


@pytest.fixture
def settings(sandbox):
    return settings_for(sandbox)


@pytest.fixture
def client(settings):
    from lib.client import IamportClient
    return IamportClient(settings)


@pytest.fixture(scope="session")
def postgres():
    from tests.pg import Postgres
    pg = Postgres()
    yield pg
    pg.stop()
