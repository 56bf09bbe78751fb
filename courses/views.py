from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kernel.errors import ApplicationError
from kernel.page_cache import cache_anonymous_page

from . import permissions, selectors, services
from .forms import CatalogueFilterForm
from .models import CourseCover, Lesson, PublicationStatus


def _course_or_404(code: str):
    course = selectors.course_get_by_code(code=code)
    if course is None:
        raise Http404
    return course


@cache_anonymous_page
def catalogue(request):
    """Published paths and courses, with a search box and filters (a GET form: no JavaScript)."""
    form = CatalogueFilterForm(request.GET or None)
    found = selectors.catalogue(user=request.user, **form.filters())
    return render(request, "courses/catalogue.html", {"catalogue": found, "form": form})


# A year: the URL names the image's digest (?v=), so a changed cover is a new URL.
COVER_MAX_AGE = 365 * 24 * 3600


@require_GET
def course_cover(request, code: str):
    """A course's cover image, whoever may see the course's page (drafts: its editors only).
    Served from the database with its own Content-Type; cached for good when asked under its
    current digest (`?v=`, as the pages link it), revalidated by ETag otherwise."""
    cover = CourseCover.objects.select_related("course").filter(course__code=code).first()
    if cover is None or not permissions.can_view_outline(user=request.user, course=cover.course):
        raise Http404
    etag = quote_etag(cover.digest)
    public = cover.course.status != PublicationStatus.DRAFT
    if request.GET.get("v") == cover.version and public:
        cache_control = f"public, max-age={COVER_MAX_AGE}, immutable"
    else:
        cache_control = "public, max-age=0, must-revalidate" if public else "private, no-cache"
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(bytes(cover.data), content_type=cover.content_type)
        response["Content-Disposition"] = f'inline; filename="{cover.course.code}-cover.{cover.extension}"'
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    # An image and nothing else, even opened on its own.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_POST
def course_enroll(request, code: str):
    course = _course_or_404(code)
    try:
        services.enrollment_create(user=request.user, course=course)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You are enrolled in %(title)s.") % {"title": course.title})
    return redirect("courses:detail", code=course.code)


@login_required
@require_http_methods(["GET", "POST"])
def lesson_detail(request, code: str, pk: int):
    course = _course_or_404(code)
    lesson = get_object_or_404(Lesson.objects.select_related("module"), pk=pk, module__course=course)
    if not selectors.can_access_course(user=request.user, course=course):
        messages.error(request, _enroll_first_message())
        return redirect("courses:detail", code=course.code)
    done = request.POST.get("done") == "1" if request.method == "POST" else None
    progress = services.lesson_mark(user=request.user, lesson=lesson, done=done)
    around = selectors.lesson_steps(course=course, lesson=lesson)
    following = around.next
    if request.method == "POST":
        if done and following is not None:  # done: on to the next step
            return redirect(following.url_name, code=course.code, pk=following.obj.pk)
        if done:
            messages.success(request, _("You have reached the end of this course's lessons."))
            return redirect("courses:detail", code=course.code)
        return redirect("courses:lesson", code=course.code, pk=lesson.pk)
    context = {
        "course": course,
        "lesson": lesson,
        "progress": progress,
        "steps": around.steps,
        "previous": around.previous,
        "next": following,
        "done_lesson_ids": selectors.done_lesson_ids(user=request.user, course=course),
    }
    return render(request, "courses/lesson_detail.html", context)


def _enroll_first_message():
    return _("Enroll in this course, and complete its required prerequisites, to open it.")
