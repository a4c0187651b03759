#!/bin/sh
# The dovecot compose service's entrypoint: renders the templates (*.in) of /etc/dovecot/mailadmin
# (docker/dovecot, mounted read-only) into $DOVECOT_CONF_DIR with the environment's values, then
# runs Dovecot in the foreground. Only the names below are substituted: Dovecot's own %{…} and
# $setting references pass through untouched. tests/mailauth/dovecot_config.py renders the same
# templates the same way.
set -eu
: "${DOVECOT_CONF_DIR:=/run/dovecot-mailadmin}"
: "${DOVECOT_SUBMISSION_RELAY_PORT:=25}"
: "${DOVECOT_HOSTNAME:=$(hostname -f 2>/dev/null || hostname)}"
export DOVECOT_CONF_DIR DOVECOT_SUBMISSION_RELAY_PORT DOVECOT_HOSTNAME
names='${DOVECOT_CONF_DIR} ${MAILADMIN_MAIL_POLICY_URL} ${MAILADMIN_MAIL_POLICY_SECRET} ${DOVECOT_POLICY_NONCE} ${DOVECOT_PASSDB_CONNECT} ${DOVECOT_SUBMISSION_RELAY_HOST} ${DOVECOT_SUBMISSION_RELAY_PORT} ${DOVECOT_HOSTNAME}'
for name in MAILADMIN_MAIL_POLICY_URL MAILADMIN_MAIL_POLICY_SECRET DOVECOT_POLICY_NONCE \
            DOVECOT_PASSDB_CONNECT DOVECOT_SUBMISSION_RELAY_HOST; do
  eval "value=\${$name:-}"
  if [ -z "$value" ]; then
    echo "dovecot: $name is not set (see docker/env.example)" >&2
    exit 1
  fi
done
umask 027
mkdir -p "$DOVECOT_CONF_DIR"
for template in /etc/dovecot/mailadmin/*.in; do
  envsubst "$names" < "$template" > "$DOVECOT_CONF_DIR/$(basename "$template" .in)"
done
chgrp -R dovecot "$DOVECOT_CONF_DIR"
exec dovecot -F -c "$DOVECOT_CONF_DIR/dovecot.conf"
