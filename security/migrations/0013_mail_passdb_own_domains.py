"""The passdb view Dovecot reads carries an address only on its tenant's own mail domain
(PostgreSQL only).

``mailadmin_mail_passdb`` (``0012_mail_passdb_account_password``) joined people to their tenant but
never asked whether the address is still on one of that tenant's mail domains. A mail domain is
unique across the platform and names its tenant; when an operator moves a domain to another tenant
(or removes it), the people left behind on it would still sign in to the mail server that now
serves someone else's domain, with their old passwords. Both kinds of row (client-specific
passwords and the account password) now need the login's domain, the part after its last ``@``,
to be a ``MailDomain`` of the person's own tenant: one lookup on the domain's unique index per
query. Addresses and domains are both stored lower-case (``normalize_email``, ``_clean_domain``).

``CREATE OR REPLACE`` keeps the view's grants (operators grant their Dovecot role SELECT on it).
"""

import importlib

from django.db import migrations

_PREVIOUS = importlib.import_module("security.migrations.0012_mail_passdb_account_password")

_OWN_DOMAIN = """
   AND EXISTS (SELECT 1 FROM tenants_maildomain md
                WHERE md.tenant_id = u.tenant_id AND md.domain = substring(u.email FROM '@([^@]+)$'))"""
_ACTIVE = "t.status = 'active'"
# Each of the view's two SELECTs joins the tenant once: the condition follows that test in both.
if _PREVIOUS.CREATE.count(_ACTIVE) != 2:  # not the view this migration was written against
    raise RuntimeError("0013_mail_passdb_own_domains: the passdb view of 0012 changed")
CREATE = _PREVIOUS.CREATE.replace(_ACTIVE, _ACTIVE + _OWN_DOMAIN)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_PREVIOUS.CREATE)


class Migration(migrations.Migration):

    dependencies = [
        ("security", "0012_mail_passdb_account_password"),
        ("tenants", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, restore, elidable=False)]
