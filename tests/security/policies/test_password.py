from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activity.models import Reason
from security.policies.base import Verdict
from security.policies.password.rules import (
    PROFILE_SETTINGS,
    NonCompliance,
    PasswordProfile,
    PasswordRules,
    compliance,
    context_words,
    password_problems,
)
from security.policies.password.validators import PolicyPasswordValidator

RECOMMENDED = PasswordRules(**PROFILE_SETTINGS[PasswordProfile.RECOMMENDED])
CLASSIC = PasswordRules(**PROFILE_SETTINGS[PasswordProfile.CLASSIC])
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Person:
    """A user as the pure checks see it: no database."""

    def __init__(self, email: str = "zhang.wei@acme.example", display_name: str = "Zhang Wei") -> None:
        self.email, self.display_name, self.pk, self.tenant_id, self.password = email, display_name, None, None, ""


def codes(password: str, rules: PasswordRules, user: object = None) -> set[str]:
    return {e.code for e in password_problems(password, user, rules)}


# --- Profiles ------------------------------------------------------------------------------------

def test_recommended_is_length_only():
    assert codes("tangerine kayak", RECOMMENDED) == set()
    assert codes("tangerine k", RECOMMENDED) == {"password_too_short"}  # 11 characters
    assert codes("alllowercase", RECOMMENDED) == set()  # no composition rules


def test_classic_needs_four_classes_and_eight_characters():
    assert codes("Qz7#kLm2", CLASSIC) == set()
    assert codes("Qz7#kLm", CLASSIC) == {"password_too_short"}
    assert codes("qz7#klm2", CLASSIC) == {"password_no_upper"}
    assert codes("QZ7#KLM2", CLASSIC) == {"password_no_lower"}
    assert codes("Qzx#kLmw", CLASSIC) == {"password_no_digit"}
    assert codes("Qz7xkLm2", CLASSIC) == {"password_no_symbol"}
    assert CLASSIC.expiry_days == 90 and CLASSIC.history_count == 5


def test_common_passwords_are_refused():
    assert "password_too_common" in codes("password1234", RECOMMENDED)


def test_help_texts_describe_the_policy():
    recommended = PolicyPasswordValidator(RECOMMENDED).get_help_text()
    assert "at least 12 characters" in recommended and "expires" not in recommended
    classic = PolicyPasswordValidator(CLASSIC).get_help_text()
    assert "at least 8 characters" in classic and "upper-case" in classic
    assert "last 5 passwords" in classic and "90 days" in classic


# --- Context words --------------------------------------------------------------------------------

@pytest.mark.parametrize("password", [
    "my acme rocks forever", "ACMECORP-forever-2026", "zhang.wei is me 2026", "wei-says-hello-world",
])
def test_context_words_are_refused(password):
    rules = PasswordRules(context_words=context_words("Acme Corp", "acme-corp"))
    assert "password_context_word" in codes(password, rules, Person())


def test_han_names_are_context_words():
    rules = PasswordRules()
    assert "password_context_word" in codes("我是张伟不是别人啊好的吧", rules, Person(display_name="张伟"))


def test_short_fragments_are_not_context_words():
    # Two Latin letters would block half of all passphrases.
    assert context_words("Li") == ()


# --- Unicode and long passwords -----------------------------------------------------------------

def test_length_is_counted_after_nfkc():
    decomposed = "e\u0301" * 11  # 22 code points, 11 characters "é"
    assert "password_too_short" in codes(decomposed, RECOMMENDED)
    assert codes("é" * 6 + "ünïcödé", RECOMMENDED) == set()
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in "tangerine kayak")
    assert fullwidth != "tangerine kayak"
    assert codes(fullwidth, RECOMMENDED) == set()


def test_emoji_and_cjk_passwords():
    assert codes("🔐🦊🌲🚲🍵🎹📚🧭🪁🛶🌋🎲", RECOMMENDED) == set()
    assert codes("春眠不觉晓处处闻啼鸟夜来", RECOMMENDED) == set()


def test_64_and_200_character_passwords_are_accepted_and_never_truncated():
    assert codes("correct horse battery staple " * 2 + "abcdef", RECOMMENDED) == set()
    long_one = "x7" * 100
    assert len(long_one) == 200 and codes(long_one, RECOMMENDED) == set()
    # A context word at position 150 is still seen: nothing is cut off.
    rules = PasswordRules(context_words=("acme",), max_length=256)
    assert "password_context_word" in codes("q" * 150 + "acme" + "z" * 46, rules)


def test_max_length_is_enforced_with_a_clear_message():
    rules = PasswordRules(max_length=64)
    problems = password_problems("y" * 200, None, rules)
    assert [p.code for p in problems] == ["password_too_long"]
    assert "at most 64 characters" in problems[0].messages[0]


# --- Compliance at sign-in ------------------------------------------------------------------------

def test_compliance_decisions():
    strict = PasswordRules(min_length=16)
    assert compliance("tangerine kayak!", Person(), strict, now=NOW).allowed
    decision = compliance("tangerine kayak", Person(), strict, now=NOW)
    assert decision.verdict == Verdict.CHALLENGE and decision.reason == Reason.PASSWORD_CHANGE_REQUIRED
    report = PasswordRules(min_length=16, on_noncompliant=NonCompliance.REPORT_ONLY)
    decision = compliance("tangerine kayak", Person(), report, now=NOW)
    assert decision.allowed and decision.monitored and decision.reason == Reason.PASSWORD_CHANGE_REQUIRED


def test_expiry():
    rules = CLASSIC
    fresh = compliance("Qz7#kLm2", Person(), rules, changed_at=NOW - timedelta(days=89), now=NOW)
    assert fresh.allowed
    old = compliance("Qz7#kLm2", Person(), rules, changed_at=NOW - timedelta(days=90), now=NOW)
    assert old.verdict == Verdict.CHALLENGE and old.reason == Reason.PASSWORD_EXPIRED
    # Unknown change date: the clock has not started, nothing expires.
    assert compliance("Qz7#kLm2", Person(), rules, changed_at=None, now=NOW).allowed
    # No expiry in the Recommended profile, however old.
    assert compliance("tangerine kayak", Person(), RECOMMENDED,
                      changed_at=NOW - timedelta(days=4000), now=NOW).allowed
