"""The passdb view Dovecot reads, now under the mail-client switches (PostgreSQL only).

``mailadmin_mail_passdb`` (first created by ``accounts/migrations/0006_mail_passdb_view.py``) keeps
its columns and gains a second kind of row:

- one row per active client-specific password, as before (``digest`` set, ``{SHA256.HEX}``);
- one row for the **account password** (``digest`` and ``mail_client_id`` NULL), the stored
  Argon2id PHC string behind Dovecot's ``{ARGON2ID}`` scheme, only when
  ``security.policies.mail.rules.account_password_over_mail`` accepts it: no two-step sign-in
  applies to the person (no confirmed authenticator app or passkey, and the tenant's MFA policy
  does not require one for their role), the tenant does not require client-specific passwords for
  everyone, the web would not ask for a new password first (expired under the password policy,
  or recorded as not complying with it while the policy says "change it at sign-in"), and the
  hash is Argon2id (Dovecot 2.3.19 with libsodium 1.0.18 verifies Django's
  8-lane hashes itself: ``doveadm pw -t`` checked; older PBKDF2 hashes wait for the person's next
  web sign-in, which rehashes them).

Neither kind appears while the person's mail protocols are off (``User.mail_protocols_off``, or
the ``MailPolicy`` switch of their role). Dovecot's query
``… WHERE login = '%Lu' AND (digest = '%{sha256:password}' OR digest IS NULL)
ORDER BY digest IS NULL LIMIT 1`` returns the matching client password first, else the account
password row, and Dovecot verifies the password against it. The older query (``digest = …`` only)
keeps working and simply never sees account rows.

``CREATE OR REPLACE`` keeps the view's grants (operators grant their Dovecot role SELECT on it).
"""

from django.db import migrations

# Mail protocols off for the person or their role (the MailPolicy row may not exist: all off-by-default).
_MAIL_ON = """
   AND NOT u.mail_protocols_off
   AND NOT COALESCE((SELECT CASE u.role WHEN 'owner' THEN m.off_for_owners
                                        WHEN 'admin' THEN m.off_for_admins
                                        WHEN 'auditor' THEN m.off_for_auditors
                                        WHEN 'helpdesk' THEN m.off_for_helpdesk
                                        WHEN 'member' THEN m.off_for_members END
                       FROM security_mailpolicy m WHERE m.tenant_id = u.tenant_id), FALSE)
"""

# "%%": the same pattern whether or not the driver parses placeholders in this statement.
CREATE = f"""
CREATE OR REPLACE VIEW mailadmin_mail_passdb AS
SELECT u.email AS login,
       p.digest AS digest,
       '{{SHA256.HEX}}' || p.digest AS password,
       p.id AS mail_client_id,
       u.id AS user_id,
       u.tenant_id AS tenant_id
  FROM accounts_mailclientpassword p
  JOIN accounts_user u ON u.id = p.user_id AND u.tenant_id = p.tenant_id
  JOIN tenants_tenant t ON t.id = u.tenant_id
 WHERE p.revoked_at IS NULL AND u.status = 'active' AND t.status = 'active'
   AND NOT u.must_change_password
   {_MAIL_ON}
UNION ALL
SELECT u.email AS login,
       CAST(NULL AS varchar(64)) AS digest,
       '{{ARGON2ID}}' || substr(u.password, length('argon2') + 1) AS password,
       CAST(NULL AS bigint) AS mail_client_id,
       u.id AS user_id,
       u.tenant_id AS tenant_id
  FROM accounts_user u
  JOIN tenants_tenant t ON t.id = u.tenant_id
 WHERE u.status = 'active' AND t.status = 'active' AND NOT u.must_change_password
   AND u.password LIKE 'argon2$argon2id$%%'
   {_MAIL_ON}
   AND NOT COALESCE((SELECT m.client_passwords_required FROM security_mailpolicy m
                      WHERE m.tenant_id = u.tenant_id), FALSE)
   AND NOT EXISTS (SELECT 1 FROM accounts_encryptedtotpdevice d
                    WHERE d.user_id = u.id AND d.tenant_id = u.tenant_id AND d.confirmed)
   AND NOT EXISTS (SELECT 1 FROM django_otp_webauthn_webauthncredential c
                    WHERE c.user_id = u.id AND c.confirmed)
   AND NOT COALESCE((SELECT f.requirement = 'required_all'
                            OR (f.requirement = 'required_admins' AND u.role IN ('owner', 'admin'))
                       FROM security_mfapolicy f WHERE f.tenant_id = u.tenant_id), FALSE)
   AND NOT EXISTS (SELECT 1 FROM security_passwordstate s
                     LEFT JOIN security_passwordpolicy pp ON pp.tenant_id = s.tenant_id
                    WHERE s.user_id = u.id AND s.tenant_id = u.tenant_id
                      AND ((COALESCE(pp.expiry_days, 0) > 0
                            AND s.changed_at + make_interval(days => pp.expiry_days) <= now())
                           OR (s.compliant = FALSE
                               AND COALESCE(pp.on_noncompliant, 'change_now') = 'change_now')))
"""

# The view as accounts/migrations/0006_mail_passdb_view.py left it (client passwords only).
PREVIOUS = """
CREATE OR REPLACE VIEW mailadmin_mail_passdb AS
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


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):

    dependencies = [
        ("security", "0011_mail_policy"),
        ("accounts", "0009_user_mail_protocols_off"),
        ("accounts", "0006_mail_passdb_view"),
        ("django_otp_webauthn", "0004_webauthnuserhandle"),
    ]

    operations = [migrations.RunPython(create, restore, elidable=False)]
