"""congvu's mail daemon: the Postfix policy service (NB-7.2b), the Dovecot auth-policy
endpoint (NB-7.2a), the submission From: check (milter), the notice outbox (QN-7.2) and
the eOffice mail outbox (KH-7) in one asyncio process, started by ``congvu mail up``.

    python -m congvu.mail.daemon --policy 127.0.0.1:10040 --auth-policy 127.0.0.1:10041 \
        --milter 127.0.0.1:10042 --smtp 127.0.0.1:25
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from congvu.mail.policy import listen_address, serve_until_signalled, setup_django

log = logging.getLogger("congvu.mail")


async def _deliver_notices(smtp: tuple[str, int]) -> None:
    """QN-7.2 notices queued by the lifecycle, and the eOffice's outbox (urgent-document
    notices, documents issued by official e-mail: KH-7), go out through our own Postfix;
    runs until cancelled. Both live here because this process is the one that knows
    where Postfix listens and runs exactly while the mail plane is up."""
    from congvu import clock, deployment
    from congvu.eoffice.outbox import deliver_pending_in_worker as deliver_eoffice
    from congvu.mail.outbox import deliver_pending_in_worker

    while True:
        try:
            domain = deployment.deployment_profile().mail.domain
            await asyncio.to_thread(deliver_pending_in_worker, *smtp, domain=domain,
                                    now=clock.now())
        except Exception:  # keep the daemon alive; the notice stays queued
            log.exception("delivering notices failed")
        try:
            domain = deployment.deployment_profile().mail.domain
            await asyncio.to_thread(deliver_eoffice, *smtp, domain=domain, now=clock.now())
        except Exception:  # each outbox on its own: a bad row must not stop the other
            log.exception("delivering eOffice mail failed")
        await asyncio.sleep(3)


async def _main(policy: tuple[str, int], auth_policy: tuple[str, int],
                milter: tuple[str, int] | None, smtp: tuple[str, int] | None) -> None:
    from congvu.mail.authpolicy import serve_auth_policy
    from congvu.mail.milter import serve_milter
    from congvu.mail.policy import serve_policy

    starts = [lambda: serve_policy(*policy), lambda: serve_auth_policy(*auth_policy)]
    if milter:
        starts.append(lambda: serve_milter(*milter))
    outbox = asyncio.create_task(_deliver_notices(smtp)) if smtp else None
    log.warning("congvu mail daemon: policy on %s:%d, auth policy on %s:%d",
                *policy, *auth_policy)
    try:
        await serve_until_signalled(*starts)
    finally:
        if outbox:
            outbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await outbox


def main() -> None:
    parser = argparse.ArgumentParser(prog="congvu-mail-daemon")
    parser.add_argument("--policy", type=listen_address, required=True, metavar="HOST:PORT")
    parser.add_argument("--auth-policy", type=listen_address, required=True,
                        metavar="HOST:PORT")
    parser.add_argument("--milter", type=listen_address, default=None, metavar="HOST:PORT",
                        help="The From: header check for submission.")
    parser.add_argument("--smtp", type=listen_address, default=None, metavar="HOST:PORT",
                        help="Where to hand queued notices to Postfix.")
    args = parser.parse_args()
    setup_django()
    asyncio.run(_main(args.policy, args.auth_policy, args.milter, args.smtp))


if __name__ == "__main__":
    main()
