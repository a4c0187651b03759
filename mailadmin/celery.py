"""The Celery app and the whole beat schedule (static; django-celery-beat has no Django 6.1 release).

Every option below is here for a production failure we do not want; the reason is beside it.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")

app = Celery("mailadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Longest task time limit; the broker's visibility timeout must exceed it (see below).
TASK_HARD_LIMIT = 30 * 60

app.conf.update(
    # Acknowledge after the task ran, so a worker killed mid-task does not lose it.
    task_acks_late=True,
    # ...and a task whose worker process died is redelivered rather than acknowledged.
    task_reject_on_worker_lost=True,
    # One message at a time per process: long sweeps do not hold short tasks hostage.
    worker_prefetch_multiplier=1,
    # No result backend: nobody waits on results, and a Redis result backend turns an outage
    # into a 19 s hang on every .delay().
    task_ignore_result=True,
    task_store_errors_even_if_ignored=False,
    # Hard and soft limits for every task unless it sets its own.
    task_time_limit=TASK_HARD_LIMIT,
    task_soft_time_limit=TASK_HARD_LIMIT - 60,
    broker_transport_options={
        # Redelivery of unacknowledged tasks must not happen while they are still running.
        "visibility_timeout": TASK_HARD_LIMIT + 15 * 60,
        # A dead Redis must fail a publish in about a second, not hang the request.
        "socket_timeout": 1.0,
        "socket_connect_timeout": 1.0,
        "max_retries": 2,
    },
    # Publishing retries are bounded, so the caller gets an error instead of blocking.
    task_publish_retry=True,
    task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                               "interval_max": 0.5},
    broker_connection_timeout=2.0,
    broker_connection_retry_on_startup=True,
    # The JSON serializer only: no pickle from the broker.
    task_serializer="json",
    accept_content=["json"],
    timezone="UTC",
    enable_utc=True,
    beat_schedule={
        "beat-heartbeat": {"task": "mailadmin.beat_heartbeat", "schedule": 60.0,
                           "options": {"expires": 55}},
        # Daily: create the next 14 days of record partitions (idempotent; PostgreSQL only).
        "record-partitions-ensure": {"task": "activity.partitions_ensure",
                                     "schedule": crontab(minute=5, hour=0),
                                     "options": {"expires": 6 * 3600}},
        # Hourly so each tenant gets its reminder on its own local day; idempotent per threshold.
        "password-expiry-reminders": {"task": "security.password_expiry_reminders",
                                      "schedule": crontab(minute=15), "options": {"expires": 3000}},
        # Hourly, like it: MFA enrolment grace ending (3 and 1 days) and invitations expiring
        # tomorrow, each e-mail once per milestone (the outbox key, security.policies.reminders).
        "mfa-grace-reminders": {"task": "security.mfa_grace_reminders",
                                "schedule": crontab(minute=20), "options": {"expires": 3000}},
        "invitation-expiry-reminders": {"task": "people.invitation_expiry_reminders",
                                        "schedule": crontab(minute=25), "options": {"expires": 3000}},
        # Daily: forget device cookies past their 180 days (security.signin.device_cookies).
        "device-cookies-purge": {"task": "security.device_cookies_purge",
                                 "schedule": crontab(minute=45, hour=3), "options": {"expires": 6 * 3600}},
        # Every 5 s: the outbox (e-mails, webhooks). Rows are claimed with SKIP LOCKED, so runs
        # may overlap; one that waited longer than the next tick is dropped, not piled up.
        "notifications-deliver": {"task": "notifications.deliver_due", "schedule": 5.0,
                                  "options": {"expires": 4}},
        # Every 2 s: alert detection over new sign-ins and exports (alerts.detect), so an alert
        # row exists within seconds of the sign-in's commit. Cursors are locked with SKIP
        # LOCKED, so overlapping runs never detect one tenant twice; a late run is dropped.
        "alerts-detect": {"task": "alerts.detect", "schedule": settings.ALERTS_DETECT_INTERVAL_SECONDS,
                          "options": {"expires": max(1.0, settings.ALERTS_DETECT_INTERVAL_SECONDS - 0.5)}},
        # Daily at 06:00 UTC: the security admins' digest of the alerts below high severity
        # (alerts.tasks_digest). Keys name the day, so a rerun or redelivery sends nothing twice.
        "alerts-digest": {"task": "alerts.digest_send", "schedule": crontab(minute=0, hour=6),
                          "options": {"expires": 6 * 3600}},
        # Nightly at 02:30 UTC: the retention sweep (roll up, purge, receipts). It stops itself
        # within its budget and resumes the next night; a second one at once is skipped.
        "retention-sweep": {"task": "retention.sweep", "schedule": crontab(minute=30, hour=2),
                            "options": {"expires": 12 * 3600}},
        # Every 5 minutes: scheduled offboardings that are due (people.offboarding). Each person
        # is carried out once under a row lock, so a late or overlapping run changes nothing.
        "people-offboardings-due": {"task": "people.offboardings_due", "schedule": 300.0,
                                    "options": {"expires": 290}},
        # Every 5 s: people imports waiting for their preview or apply, or left by a killed
        # worker (people.imports). A job runs under a lease and a row lock (SKIP LOCKED), so
        # overlapping runs never work on one job; a late run is dropped.
        "people-imports-run-due": {"task": "people.imports_run_due", "schedule": 5.0,
                                   "options": {"expires": 4}},
    },
)
app.autodiscover_tasks(lambda: settings.INSTALLED_APPS)
app.autodiscover_tasks(lambda: ["alerts"], related_name="tasks_digest")
