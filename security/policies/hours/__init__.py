"""Sign-in hours: when a tenant's people may sign in and keep using an open session."""
