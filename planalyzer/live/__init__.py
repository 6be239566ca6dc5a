"""Everything that needs a live PostgreSQL connection (psycopg 3 is only imported here)."""
