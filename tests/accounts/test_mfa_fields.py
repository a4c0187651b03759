"""The encrypted field: ciphertext in the database and in serialised fixtures."""

from __future__ import annotations

import pytest
from django.core import serializers

from accounts.fields import SERIALIZED_PREFIX
from accounts.mfa.models import EncryptedTOTPDevice
from tests.accounts.test_mfa_support import enroll, hex_of

pytestmark = pytest.mark.django_db


def test_dumpdata_writes_ciphertext_and_loaddata_reads_it_back(two_tenants):
    device, secret = enroll(two_tenants.a.member)
    text = serializers.serialize("json", EncryptedTOTPDevice.objects.filter(pk=device.pk))
    assert hex_of(secret) not in text and SERIALIZED_PREFIX in text
    EncryptedTOTPDevice.objects.filter(pk=device.pk).delete()
    for obj in serializers.deserialize("json", text):
        obj.save()
    assert EncryptedTOTPDevice.objects.get(pk=device.pk).key == hex_of(secret)


def test_the_key_is_not_editable_in_model_forms():
    assert not EncryptedTOTPDevice._meta.get_field("key").editable
