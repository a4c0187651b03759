"""Password policy: what a tenant accepts as a password, and whether a typed one still passes."""
