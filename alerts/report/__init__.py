""""This wasn't me": an employee reports a sign-in to their account that they did not make.

``services`` opens the high-severity alert and secures the account, ``links`` issues and checks
the signed single-use link of the "Was this you?" e-mail, ``views`` are the two ways in (a row of
one's own sign-in history, and that link, which works without signing in).
"""
