"""`citywatch incidents list`: the stored incidents, newest first."""

import argparse
import json

from citywatch.cli.common import config_of, database_options


def cmd_incidents_list(args: argparse.Namespace) -> int:
    from citywatch.storage.store import IncidentStore

    store = IncidentStore(config_of(args).storage.database_url)
    store.upgrade()
    rows = store.list(limit=args.limit, type=args.type, camera_id=args.camera)
    store.dispose()
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2, ensure_ascii=False))
        return 0
    for row in rows:
        data = row.to_json()
        kind = data["type"] + (f"/{data['subtype']}" if data.get("subtype") else "")
        print(
            f"{data['started_at']}  {data['camera_id']:<12} {kind:<18} {data['confidence']:.2f} "
            f"{data['status']:<10} {data.get('snapshot_path') or '-'}  {data.get('clip_path') or '-'}"
        )
    if not rows:
        print("no incidents")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    incidents = sub.add_parser("incidents", help="stored incidents")
    incidents_sub = incidents.add_subparsers(dest="incidents_command", required=True)
    listing = incidents_sub.add_parser("list", help="newest first")
    database_options(listing)
    listing.add_argument("--type")
    listing.add_argument("--camera")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_incidents_list)
