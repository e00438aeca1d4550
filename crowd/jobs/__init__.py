"""Scheduled jobs: bodies in ``bodies``, the database lock in ``locks``, the
schedule in ``schedule``."""
