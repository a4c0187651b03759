"""MFA policy: who must use a second factor, and how long they have to enrol."""
