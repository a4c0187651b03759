"""The passdb's lookup as a PL/pgSQL function whose plan PostgreSQL keeps (PostgreSQL only).

Dovecot's pgsql driver sends its ``password_query`` as a plain query, never prepared, so
PostgreSQL planned the view ``mailadmin_mail_passdb`` (two SELECTs, the tenant, the mail domain,
the mail policy, the MFA and password policies: ``0013_mail_passdb_own_domains``) on every
sign-in: 3.2-6.6 ms of planning for 0.3 ms of execution (bench mailauth's EXPLAIN ANALYZE), most
of what our passdb added to a login. ``mailadmin_mail_passdb_lookup(login, digest)`` runs the
very query Dovecot sent (``WHERE login = … AND (digest = … OR digest IS NULL) ORDER BY digest IS
NULL LIMIT 1``) over the unchanged view; PL/pgSQL prepares it once per database connection and
Dovecot keeps its connections, so each sign-in is planned as a function call. The generic plan is
forced: the login and digest only ever meet unique and equality indexes, and a custom plan
per call would plan the view again.

The view stays the one definition of who may sign in with which password (its tests, the
person page and ``security.policies.mail.rules`` read it). The function runs with its owner's
rights, as the view does (``SECURITY DEFINER``, with a fixed ``search_path``); nobody but the owner
may call it until an operator grants it (``GRANT EXECUTE ON FUNCTION
mailadmin_mail_passdb_lookup(text, text) TO dovecot_passdb``), as the view needs ``GRANT
SELECT``.
"""

from django.db import migrations

_FUNCTION = "mailadmin_mail_passdb_lookup(text, text)"


def _create_sql(schema: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {schema}.mailadmin_mail_passdb_lookup(p_login text, p_digest text)
RETURNS TABLE (login text, password text, mail_client_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = {schema}, pg_temp
SET plan_cache_mode = force_generic_plan
AS $body$
BEGIN
  RETURN QUERY
    SELECT v.login::text, v.password::text, v.mail_client_id
      FROM {schema}.mailadmin_mail_passdb v
     WHERE v.login = p_login AND (v.digest = p_digest OR v.digest IS NULL)
     ORDER BY v.digest IS NULL
     LIMIT 1;
END
$body$;
REVOKE ALL ON FUNCTION {schema}.{_FUNCTION} FROM PUBLIC;
"""


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = connection.ops.quote_name(cursor.fetchone()[0])
    schema_editor.execute(_create_sql(schema))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}")


class Migration(migrations.Migration):

    dependencies = [
        ("security", "0013_mail_passdb_own_domains"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
