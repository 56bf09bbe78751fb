import re

import pytest
from django.core import mail

URL = re.compile(r"https?://\S+")


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox


def link_in(message) -> str:
    """The path of the first link in an e-mail."""
    url = URL.search(message.body).group(0)
    return "/" + url.split("/", 3)[3]
