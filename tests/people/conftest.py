from __future__ import annotations

import pytest

from tests.factories import PASSWORD


@pytest.fixture
def reauthed(signed_in):
    """Signed in (password only) and just confirmed who they are, as the person actions ask."""
    def sign_in(user):
        client = signed_in(user)
        assert client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
        return client
    return sign_in
