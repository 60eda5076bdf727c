"""`kraken-contract`: serve the reference deployment, work with schemas, run the fault matrix."""

from __future__ import annotations

import sys

USAGE = """usage: kraken-contract COMMAND [ARGS]

commands:
  serve     run the bundled reference deployment (kraken-contract serve --help)
  schema    pull a target's schema, or classify the changes between two (kraken-contract schema --help)
  faults    run the suite against every fault and conformant variant; write docs/fault-detection.md
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "serve":
        from kraken_contract.reference.server import serve_main

        return serve_main(rest)
    if command == "schema":
        from kraken_contract.drift import schema_main

        return schema_main(rest)
    if command == "faults":
        from kraken_contract.faults import faults_main

        return faults_main(rest)
    print(f"kraken-contract: unknown command {command!r} (try kraken-contract --help)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
