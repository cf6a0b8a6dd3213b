"""Fixtures: one in-memory cqlserver subprocess per test session, plus driver sessions."""

from __future__ import annotations

import itertools
import os

import pytest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import RoundRobinPolicy

from cqlserver.testing import free_port, start_cql_server, stop
from tests.support.cql import acsylla_cluster

_names = itertools.count()


@pytest.fixture(scope="session")
def cql_port():
    port = free_port()
    try:
        proc = start_cql_server(port)
    except RuntimeError as e:
        pytest.fail(f"{e}\n(start it manually with: .venv/bin/python -m cqlserver --port {port})")
    yield port
    stop(proc)


@pytest.fixture(scope="session")
async def acs(cql_port):
    """An acsylla session connected to the test server."""
    cluster = acsylla_cluster(cql_port, connect_timeout=5, request_timeout=20)
    session = await cluster.create_session()
    yield session
    await session.close()


@pytest.fixture(scope="session")
def pycluster(cql_port):
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=30)
    cluster = Cluster(
        ["127.0.0.1"],
        port=cql_port,
        protocol_version=4,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
    )
    yield cluster
    cluster.shutdown()


@pytest.fixture(scope="session")
def pysession(pycluster):
    """A DataStax cassandra-driver session connected to the test server."""
    return pycluster.connect()


@pytest.fixture
def keyspace(pysession) -> str:
    """A fresh keyspace for one test."""
    name = f"ks_{os.getpid()}_{next(_names)}"
    pysession.execute(
        f"CREATE KEYSPACE {name} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    return name
