"""Integrations: what universities see of us and send us. Every write of the app lives in this
package: API clients (clients.py), the enrollment sync (sync.py), webhooks (webhooks.py),
OneRoster import (oneroster.py) and learner invitations (invites.py). Events are written to the
outbox by kernel.events in the caller's transaction; events.py nudges the `events` queue, which
delivers them."""
