"""Django's PostgreSQL backend with a client-side guard against a frozen server (base.py)."""
