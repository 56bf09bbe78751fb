"""`{{ code|langdir }}`: the direction of text in a language ("rtl" for Arabic, "ltr" otherwise), so
a block of course content carries its own lang and dir inside a page of another language."""

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def langdir(code) -> str:
    return "rtl" if str(code or "").split("-")[0] in settings.LANGUAGES_BIDI else "ltr"
