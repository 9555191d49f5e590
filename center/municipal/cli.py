"""``koufu municipal …``: set up and run a municipal issuance server (simulated municipality).

    koufu municipal init --dir DIR --code 131016 --name 千代田区 --name-en "Chiyoda City"
                         --prefecture 東京都 --mayor "千代田区長　山田　太郎"
                         [--settings FILE] [--center-key FILE] [--terminal-ca FILE]
                         [--jpki-anchor FILE] [--jpki-signing-anchor FILE] [--db URL]
    koufu municipal settings --dir DIR [--load FILE]      print (or replace) the settings
    koufu municipal sealing-key --dir DIR                 make its sealing key if it has none
    koufu municipal link --dir DIR SERIAL RESIDENT_ID     a card's certificate serial → a resident
    koufu municipal serve --dir DIR [--host H] [--port N] [--db URL]
    koufu municipal registrations list|approve|deny …  usage registrations (本籍地の利用登録),
                                                      see :mod:`center.municipal.registrations_cli`

``--db`` defaults to ``$KOUFU_MUNICIPAL_DB``, else the SQLite file in ``--dir``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519

from center.municipal import registrations_cli, service, settings
from center.municipal.issuer import load_settings, store_settings
from center.signing import unb64url


def register(commands: Any) -> None:
    municipal = commands.add_parser("municipal", help="a municipal issuance server (simulated)")
    sub = municipal.add_subparsers(dest="municipal_command", required=True, metavar="ACTION")

    def command(name: str, help_text: str, run: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        add_location(parser)
        parser.set_defaults(run=run)
        return parser

    init = command("init", "create the directory: keys, trust, database, settings", _init)
    init.add_argument("--code", required=True, help="全国地方公共団体コード, 6 digits")
    init.add_argument("--name", required=True)
    init.add_argument("--name-en", required=True)
    init.add_argument("--prefecture", required=True)
    init.add_argument("--mayor", required=True, help="as it signs certificates")
    init.add_argument("--settings", type=Path, help="settings JSON (default: a typical municipality)")
    init.add_argument(
        "--center-key",
        type=Path,
        action="append",
        default=[],
        help="a file with a center public key (Ed25519, base64url); repeatable",
    )
    init.add_argument(
        "--terminal-ca",
        type=Path,
        action="append",
        default=[],
        help="a PEM terminal CA certificate; repeatable",
    )

    init.add_argument(
        "--jpki-anchor",
        type=Path,
        action="append",
        default=[],
        help="a PEM JPKI user-authentication CA certificate (every generation); repeatable",
    )
    init.add_argument(
        "--jpki-signing-anchor",
        type=Path,
        action="append",
        default=[],
        help="a PEM JPKI signing CA certificate (every generation: usage registrations); repeatable",
    )

    shown = command("settings", "print the settings, or replace them with --load FILE", _settings)
    shown.add_argument("--load", type=Path)

    command("sealing-key", "give the municipality its sealing key (P-256) if it has none", _sealing_key)

    link = command("link", "link a card's user-authentication certificate serial to a resident", _link)
    link.add_argument("serial", type=int)
    link.add_argument("resident_id", type=int)

    serve = command("serve", "serve the center over HTTPS", _serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")

    registrations_cli.register(sub, add_location)


def add_location(parser: argparse.ArgumentParser) -> None:
    """``--dir`` and ``--db``, which every municipal command takes."""
    parser.add_argument("--dir", type=Path, required=True, help="the municipality's directory")
    parser.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get(service.DB_ENV),
        help=f"database URL, e.g. postgresql+psycopg://… (${service.DB_ENV})",
    )


def _init(args: argparse.Namespace) -> int:
    if args.settings is not None:
        chosen = settings.MunicipalSettings.loads(args.settings.read_text())
    else:
        chosen = settings.typical(args.code, args.name, args.name_en, args.prefecture, args.mayor)
    if chosen.municipality != args.code:
        raise ValueError(f"the settings are for {chosen.municipality}, not {args.code}")
    center_keys = [
        ed25519.Ed25519PublicKey.from_public_bytes(unb64url(path.read_text().strip()))
        for path in args.center_key
    ]
    cas = [
        certificate
        for path in args.terminal_ca
        for certificate in x509.load_pem_x509_certificates(path.read_bytes())
    ]
    anchors = [
        certificate
        for path in args.jpki_anchor
        for certificate in x509.load_pem_x509_certificates(path.read_bytes())
    ]
    signing_anchors = [
        certificate
        for path in args.jpki_signing_anchor
        for certificate in x509.load_pem_x509_certificates(path.read_bytes())
    ]
    key = service.initialise(
        args.dir,
        chosen,
        db_url=args.db,
        center_keys=center_keys,
        terminal_cas=cas,
        jpki_anchors=anchors,
        jpki_signing_anchors=signing_anchors,
    )
    from documents.sealing_key import sealing_key_id

    sealing = sealing_key_id(service.read_sealing_key(args.dir).public_key())
    print(
        f"municipality {chosen.municipality} ({chosen.name}) initialised in {args.dir}; "
        f"key {key.key_id}, sealing key {sealing}"
    )
    return 0


def _sealing_key(args: argparse.Namespace) -> int:
    """Idempotent: a directory keeps the key it has; one made before sealing keys gets one."""
    from documents.sealing_key import sealing_key_id

    server = service.MunicipalServer.open(args.dir, db_url=args.db)  # a municipal directory, its own
    server.close()
    key, made = service.ensure_sealing_key(args.dir)
    state = "made" if made else "kept"
    print(f"municipality {server.municipality}: sealing key {sealing_key_id(key.public_key())} {state}")
    return 0


def _settings(args: argparse.Namespace) -> int:
    server = service.MunicipalServer.open(args.dir, db_url=args.db)
    try:
        with server.engine.begin() as connection:
            if args.load is not None:
                loaded = settings.MunicipalSettings.loads(args.load.read_text())
                if loaded.municipality != server.municipality:
                    raise ValueError(f"the settings are for {loaded.municipality}, not {server.municipality}")
                store_settings(connection, loaded, dt.datetime.now(dt.UTC))
            print(json.dumps(load_settings(connection).to_json(), ensure_ascii=False, indent=1))
    finally:
        server.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from center.municipal.http import create_app
    from center.web import serve_app

    logging.getLogger("center.municipal").setLevel(logging.INFO)
    server = service.MunicipalServer.open(args.dir, db_url=args.db)
    serve_app(
        create_app(server),
        host=args.host,
        port=args.port,
        tls_cert=args.dir / "tls.crt",
        tls_key=args.dir / "tls.key",
        ready=lambda url: print(f"municipality {server.municipality} listening on {url}", flush=True),
    )
    return 0


def _link(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from center.municipal import schema

    server = service.MunicipalServer.open(args.dir, db_url=args.db)
    links = schema.card_links
    try:
        with server.engine.begin() as connection:
            if (
                connection.execute(
                    sa.select(schema.residents.c.id).where(schema.residents.c.id == args.resident_id)
                ).first()
                is None
            ):
                raise ValueError(f"no resident {args.resident_id}")
            connection.execute(links.delete().where(links.c.resident_id == args.resident_id))
            connection.execute(
                links.insert().values(
                    certificate_serial=args.serial,
                    resident_id=args.resident_id,
                    linked_at=dt.datetime.now(dt.UTC),
                )
            )
    finally:
        server.close()
    print(f"certificate {args.serial} → resident {args.resident_id} (usable from tomorrow)")
    return 0
