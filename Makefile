# mailadmin: `make run` serves the embedded default; `make test` runs everything CI runs.
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
SHELL := /bin/bash
APPS := tenants notifications accounts activity security alerts retention people me mailadmin

.PHONY: run test lint check-deploy pytest bench venv dev-deps system-deps clean messages compilemessages

$(PY):
	"$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The project root on the venv's path, like an editable install (tests.harness is a plugin).
	echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/mailadmin-project.pth"

$(VENV)/.base: $(PY) requirements/base.lock
	$(PY) -m pip install -q --require-hashes -r requirements/base.lock
	touch $@

$(VENV)/.dev: $(PY) requirements/dev.lock
	$(PY) -m pip install -q --require-hashes -r requirements/dev.lock
	touch $@ $(VENV)/.base

venv: $(VENV)/.base
dev-deps: $(VENV)/.dev

# Translations: the catalogues (locale/<lang>/LC_MESSAGES/django.po) are committed, the compiled
# .mo files are not: gettext's msgfmt (scripts/system-deps) builds them for `make run` and `make test`.
PO := $(wildcard locale/*/LC_MESSAGES/django.po)
%.mo: %.po
	@command -v msgfmt >/dev/null 2>&1 || scripts/system-deps --gettext
	msgfmt --check -o $@ $<
compilemessages: $(PO:.po=.mo)

# After the sources changed: every marked string into the catalogue (then translate the new ones,
# see locale/README.md); tests/i18n fails while one is untranslated or fuzzy.
messages: $(VENV)/.base
	@command -v msgfmt >/dev/null 2>&1 || scripts/system-deps --gettext
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --add-location=file --ignore=tests \
		--ignore=bench --ignore=node_modules --ignore=var --ignore=docs

# MAILADMIN_PORT: the links in e-mails (invitations) point at the port served (PUBLIC_BASE_URL).
run: $(VENV)/.base compilemessages
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	@echo "Console: http://127.0.0.1:$(PORT)/"
	MAILADMIN_PORT=$(PORT) $(PY) manage.py runserver 127.0.0.1:$(PORT)

system-deps:
	scripts/system-deps

# A production-like environment for `check --deploy` (nothing here is a real secret).
DEPLOY_ENV := DATABASE_URL=postgres://u:p@db.invalid/mailadmin REDIS_URL=redis://redis.invalid:6379/0 \
	SECRET_KEY=deploy-check-$$(head -c 32 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9') \
	ALLOWED_HOSTS=mail-admin.example.com EMAIL_HOST=smtp.invalid \
	FIELD_ENCRYPTION_KEYS=Xo8gGk8g0mbJ6ae1mJ7k2tqKk2v2y3zJq2zvGJ3e6Ww= DEBUG=0

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	# The layer contract (.importlinter): no app imports one above it.
	$(VENV)/bin/lint-imports
	# Types (pyproject [tool.mypy]: the apps, django-stubs): no error, every ignore with its code.
	$(VENV)/bin/mypy
	# Security lint: no finding of medium or high severity that is not reviewed (# nosec beside
	# its reason); low ones are ruff's S rules' business.
	# (bandit warns about a nosec on a line that one of its other checks passed; that is noise.)
	$(VENV)/bin/bandit -q -r $(APPS) -x '*/migrations/*' --severity-level medium \
		2> >(grep -v 'nosec encountered' >&2)

check-deploy: $(VENV)/.dev
	$(PY) manage.py makemigrations --check --dry-run
	env $(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING

pytest: $(VENV)/.dev system-deps compilemessages
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint check-deploy pytest

bench: $(VENV)/.dev
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
