"""Throughput of cqlserver: prepared single-partition writes and reads, 32 in flight, via acsylla.

Usage: .venv/bin/python bench/cql_bench.py [--seconds 10] [--concurrency 32] [--data-dir DIR]
Starts the server as a subprocess on a free port (in memory unless --data-dir is given).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import acsylla

from cqlserver.testing import free_port, start_cql_server, stop


async def phase(name, session, prepared, make_values, seconds, concurrency):
    deadline = time.perf_counter() + seconds
    done = 0
    latencies: list[float] = []

    async def worker(wid: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < deadline:
            st = prepared.bind()
            st.bind_list(make_values(wid, i))
            t0 = time.perf_counter()
            await session.execute(st)
            latencies.append(time.perf_counter() - t0)
            done += 1
            i += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(f"{name:>6}: {done / elapsed:8.0f} ops/s  ({done} ops in {elapsed:.1f}s, "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms)")  # fmt: skip


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    port = free_port()
    proc = start_cql_server(port, args.data_dir)
    try:
        cluster = acsylla.create_cluster(
            ["127.0.0.1"], port=port, use_schema=False, token_aware_routing=False,
            protocol_version=4, log_level="error",
        )  # fmt: skip
        session = await cluster.create_session()
        for cql in [
            "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 1}",
            "CREATE TABLE IF NOT EXISTS bench.kv (id uuid, seq int, payload text, "
            "PRIMARY KEY ((id), seq))",
        ]:
            await session.execute(acsylla.create_statement(cql))
        keys = [uuid.uuid4() for _ in range(1000)]
        write = await session.create_prepared(
            "INSERT INTO bench.kv (id, seq, payload) VALUES (?, ?, ?)"
        )
        read = await session.create_prepared("SELECT * FROM bench.kv WHERE id = ? AND seq = ?")
        payload = "x" * 100
        mode = f"data dir {args.data_dir}" if args.data_dir else "in memory"
        print(f"cqlserver ({mode}), acsylla, {args.concurrency} concurrent requests, "
              f"{args.seconds:.0f}s per phase")  # fmt: skip
        await phase("write", session, write,
                    lambda w, i: [keys[(w * 31 + i) % 1000], i % 10, payload],
                    args.seconds, args.concurrency)  # fmt: skip
        await phase("read", session, read,
                    lambda w, i: [keys[(w * 31 + i) % 1000], i % 10],
                    args.seconds, args.concurrency)  # fmt: skip
        await session.close()
    finally:
        stop(proc)


if __name__ == "__main__":
    asyncio.run(main())
