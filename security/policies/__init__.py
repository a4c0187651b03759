"""Tenant policies, one package each (password, mfa, network, hours, lockout, sessions).

Each package has the same shape: ``models`` (one row per tenant, on ``TenantPolicy``), ``rules``
(the frozen rules and pure checks), ``selectors`` (reads, never writes), ``services`` (writes,
each checking its actor), ``forms``, ``views``, ``urls``. Shared: ``base`` (Decision, Mode,
SignInContext), ``cache`` (rules by policy version), ``support`` (what services and selectors
share), ``pages`` and ``forms`` (what the pages share), ``urls`` (all six under /policies/).
"""
