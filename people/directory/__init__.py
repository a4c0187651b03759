"""The people list at enterprise scale: sortable, filtered keyset pages with each person's
two-step methods, last sign-in, lockout and open alerts; bulk actions through the per-person
services; the list as CSV, recorded like every export."""
