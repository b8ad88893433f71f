"""Notifications (`[[notify.channels]]`, `[[notify.rules]]`): the collector's "notify" job
evaluates the rules (conditions.py), keeps each episode in the live store (state.py), and
hands the messages (messages.py) to a thread per channel (outbox.py) that delivers them
(channels.py), retries and audits them — so a channel that hangs delays nothing else."""
