"""congvu's mail daemon: the Postfix policy service (NB-7.2b), the Dovecot auth-policy
endpoint (NB-7.2a), the submission From: check (milter) and the notice outbox (QN-7.2)
in one asyncio process, started by ``congvu mail up``.

    python -m congvu.mail.daemon --policy 127.0.0.1:10040 --auth-policy 127.0.0.1:10041 \
        --milter 127.0.0.1:10042 --smtp 127.0.0.1:25
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal


def _split(text: str) -> tuple[str, int]:
    host, _sep, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _deliver_notices(smtp: tuple[str, int], stop: asyncio.Event) -> None:
    """QN-7.2 notices queued by the lifecycle go out through our own Postfix."""
    from congvu import clock, deployment
    from congvu.mail.outbox import deliver_pending_in_worker

    log = logging.getLogger("congvu.mail")
    while not stop.is_set():
        try:
            domain = deployment.deployment_profile().mail.domain
            await asyncio.to_thread(deliver_pending_in_worker, *smtp, domain=domain,
                                    now=clock.now())
        except Exception:  # keep the daemon alive; the notice stays queued
            log.exception("delivering notices failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=3)


async def _main(policy: tuple[str, int], auth_policy: tuple[str, int],
                milter: tuple[str, int] | None, smtp: tuple[str, int] | None) -> None:
    from congvu.mail.authpolicy import serve_auth_policy
    from congvu.mail.milter import serve_milter
    from congvu.mail.policy import serve_policy

    servers = [await serve_policy(*policy), await serve_auth_policy(*auth_policy)]
    if milter:
        servers.append(await serve_milter(*milter))
    stop = asyncio.Event()
    outbox = asyncio.create_task(_deliver_notices(smtp, stop)) if smtp else None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger("congvu.mail").warning(
        "congvu mail daemon: policy on %s:%d, auth policy on %s:%d", *policy, *auth_policy)
    await stop.wait()
    if outbox:
        await outbox
    for server in servers:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(prog="congvu-mail-daemon")
    parser.add_argument("--policy", required=True, metavar="HOST:PORT")
    parser.add_argument("--auth-policy", required=True, metavar="HOST:PORT")
    parser.add_argument("--milter", default=None, metavar="HOST:PORT",
                        help="The From: header check for submission.")
    parser.add_argument("--smtp", default=None, metavar="HOST:PORT",
                        help="Where to hand queued notices to Postfix.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congvu.settings")
    import django

    django.setup()
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(_main(_split(args.policy), _split(args.auth_policy),
                      _split(args.milter) if args.milter else None,
                      _split(args.smtp) if args.smtp else None))


if __name__ == "__main__":
    main()
