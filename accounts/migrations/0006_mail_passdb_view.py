"""The view Dovecot's SQL passdb reads (PostgreSQL only; see security/mailauth and docker/dovecot/).

One row per active client-specific password of an active person of an active tenant whose
account is not secured after a compromise (``must_change_password``; its client passwords are
revoked by the flows that secure it, this stops them at once even before that): the
address, the digest and the hash in Dovecot's own ``{SHA256.HEX}`` scheme. Dovecot asks for
``WHERE login = '%u' AND digest = '%{sha256:password}'``, so at most one row comes back (the
passdb refuses a query returning several) and Dovecot verifies the password against it itself.
The account password is not in the view: it never travels to the mail servers (Django's Argon2
hashes use 8 lanes, which libsodium's verifier, Dovecot's ARGON2ID, refuses anyway), so mail
clients use client-specific passwords only, which also satisfies "under an MFA policy, only
client-specific passwords work". Operators grant their Dovecot role SELECT on this view alone.
"""

from django.db import migrations

CREATE = """
CREATE VIEW mailadmin_mail_passdb AS
SELECT u.email AS login,
       p.digest AS digest,
       '{SHA256.HEX}' || p.digest AS password,
       p.id AS mail_client_id,
       u.id AS user_id,
       u.tenant_id AS tenant_id
  FROM accounts_mailclientpassword p
  JOIN accounts_user u ON u.id = p.user_id AND u.tenant_id = p.tenant_id
  JOIN tenants_tenant t ON t.id = u.tenant_id
 WHERE p.revoked_at IS NULL AND u.status = 'active' AND t.status = 'active'
   AND NOT u.must_change_password
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP VIEW IF EXISTS mailadmin_mail_passdb")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_mail_client_passwords"),
        ("tenants", "0002_tenant_policy_version"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
