"""Mail clients: who may sign in over IMAP, POP3 and SMTP submission, and with which password."""
