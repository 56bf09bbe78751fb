"""Dates follow the reader's language, one way per language across the site (config/formats):
day before month, a 24-hour clock, Arabic long dates in Arabic word order."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from learning.messages import notification_text
from learning.models import Notification
from tests.factories import UserFactory

MOMENT = datetime(2026, 12, 1, 16, 49, tzinfo=ZoneInfo("Africa/Casablanca"))
EXPECTED = {
    "fr": ("1 décembre 2026", "1 décembre 2026, 16:49", "01/12/2026 16:49"),
    "ar": ("1 ديسمبر 2026", "1 ديسمبر 2026، 16:49", "01/12/2026 16:49"),
    "en": ("1 December 2026", "1 December 2026, 16:49", "01/12/2026 16:49"),
}
TEMPLATE = Template('{{ d|date:"DATE_FORMAT" }}|{{ d }}|{{ d|date:"SHORT_DATETIME_FORMAT" }}')


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_each_language_writes_dates_its_own_way(lang):
    with translation.override(lang), timezone.override("Africa/Casablanca"):
        assert TEMPLATE.render(Context({"d": MOMENT})).split("|") == list(EXPECTED[lang])


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_deadline_reminder_is_written_in_its_reader_s_language_and_an_old_one_as_stored(client, lang):
    learner = UserFactory()
    Notification.objects.create(user=learner, kind="deadline", url="/",
                                params={"assignment": "Quiz", "course": "C", "due_at": MOMENT.isoformat()})  # fmt: skip
    client.force_login(learner)
    client.cookies["django_language"] = lang
    page = client.get(reverse("learning:notifications"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert EXPECTED[lang][1] in page
    with translation.override(lang):
        old = notification_text("deadline", {"assignment": "Quiz", "course": "C", "due": "Dec. 1, 2026, 4:49 p.m."})
    assert "Dec. 1, 2026, 4:49 p.m." in old
