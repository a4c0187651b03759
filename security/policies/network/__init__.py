"""Network allowlist: which client addresses may sign in, per tenant."""
