"""Lockout policy: how many failed sign-ins lock an account, and for how long."""
