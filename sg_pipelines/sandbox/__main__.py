"""`python -m sg_pipelines.sandbox`: serve a generated (or CSV) district in this process."""

from __future__ import annotations

import argparse
import logging
import socket
import time
from pathlib import Path

from sg_pipelines.sandbox.csv_bundle import load_bundle
from sg_pipelines.sandbox.generator import generate_district
from sg_pipelines.settings import SANDBOX_DEFAULT_PORT

logger = logging.getLogger("sg_pipelines.sandbox")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, build the district and serve it until terminated."""
    parser = argparse.ArgumentParser(prog="python -m sg_pipelines.sandbox", description=__doc__)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--csv", type=Path, help="serve this OneRoster CSV bundle instead")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=SANDBOX_DEFAULT_PORT)
    parser.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    parser.add_argument("--warm", action="store_true", help="serialise all records up front")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")

    # imported here so that `--help` stays fast
    from sg_pipelines.sandbox.runner import bind_socket, serve_on_socket

    started = time.perf_counter()
    district = load_bundle(args.csv) if args.csv else generate_district(args.students, args.seed)
    if args.warm:
        count = district.warm()
        logger.info("serialised %d records in %.1fs", count, time.perf_counter() - started)

    sock: socket.socket = bind_socket(args.host, args.port)
    serve_on_socket(sock, district, port_file=args.port_file)


if __name__ == "__main__":
    main()
