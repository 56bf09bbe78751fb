"""The ground every app stands on, and nothing more: the outbox and domain events, the durable
enqueue, the error base class, the site URL, the CSV guard and the URL converters."""
