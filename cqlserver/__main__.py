"""Command line entry point: ``python -m cqlserver --port P [--host H] [--data-dir DIR]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os

from .server import MAX_FRAME, Server


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="cqlserver", description="Single-node CQL (v4) server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9042)
    ap.add_argument("--data-dir", default=None, help="persist data here (default: in memory)")
    ap.add_argument("--max-frame-bytes", type=int, default=MAX_FRAME)
    ap.add_argument("--log-level", default=os.environ.get("CQLSERVER_LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(message)s")
    server = Server(args.host, args.port, args.data_dir, args.max_frame_bytes)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve_forever())


if __name__ == "__main__":
    main()
