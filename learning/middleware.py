"""The interface language: picked from the browser (LocaleMiddleware), switched with the language
form (cookie), and remembered on a signed-in user so it follows them to a new browser and into
their e-mails."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from . import services


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.set_language_path = None

    def __call__(self, request):
        if self.set_language_path is None:
            try:
                self.set_language_path = reverse("set_language")
            except NoReverseMatch:  # a URLconf without Django's i18n views
                self.set_language_path = ""
        user = getattr(request, "user", None)
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        # Only a browser without a language cookie needs the account's choice (and its user query).
        preferred = user.preferred_language if not cookie and user is not None and user.is_authenticated else ""
        use_preferred = preferred in dict(settings.LANGUAGES)
        if use_preferred:
            translation.activate(preferred)
            request.LANGUAGE_CODE = preferred
        response = self.get_response(request)
        if self.set_language_path and request.path == self.set_language_path:
            # Remember only a switch Django's view accepted: it sets the cookie then. A refused one
            # (a missing CSRF token, an unknown language) changes neither the cookie nor the account.
            accepted = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
            if request.method == "POST" and accepted is not None and user is not None and user.is_authenticated:
                services.user_language_remember(user=user, language=accepted.value)
        elif use_preferred:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, preferred, max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
            )  # fmt: skip
        return response
