"""The mailadmin project.

The Celery app (``mailadmin.celery``) is not imported here, unlike Django's usual recipe: web
workers then never load Celery (~8 MB a process) until something enqueues a task. Every task
module imports the app itself (``@app.task``), so a task is always bound to it, and
``celery -A mailadmin`` finds ``mailadmin.celery.app`` on its own.
"""
