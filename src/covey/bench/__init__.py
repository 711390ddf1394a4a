"""``covey bench``: load benchmarks that drive the production server and compare it with a peer.

Each workload generates its own data from a seed, measures, and prints one JSON line last (see
DESIGN.md "Contracts"). ``registrations`` is the first: concurrent deal registrations through the
API against PostgreSQL, compared with the same checks and insert done straight through psycopg.
"""
