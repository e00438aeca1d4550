"""Stored passwords use the production hash, whatever the rest of the suite does.

Every other test swaps scrypt for a one-round hash (tests/conftest.py
``fast_password_hashing``) because scrypt was most of the suite's time; this
module opts out, so the real hash stays tested.
"""
from __future__ import annotations

import pytest

from crowd.extensions import db
from crowd.persistence import User
from crowd.services.accounts import authenticate, create_user

pytestmark = pytest.mark.real_password_hashing


def test_passwords_are_stored_as_scrypt_and_still_check(app):
    with app.app_context():
        account = create_user(db.session, "hashed", "correct horse battery", "worker")
        stored = db.session.get(User, account.id).password_hash
        assert stored.startswith("scrypt:")
        assert "correct horse battery" not in stored
        assert authenticate(db.session, "hashed", "correct horse battery").id == account.id
        assert authenticate(db.session, "hashed", "wrong horse battery") is None
