"""Integrations: what universities see of us and send us. Every write of the app lives in this
package: API clients (clients.py), the enrollment sync (sync.py), webhooks (webhooks.py),
OneRoster import (oneroster.py) and learner invitations (invites.py). Events go to the outbox in
the caller's transaction (events.py); the `events` queue delivers them."""

from .events import event_record

__all__ = ["event_record"]
