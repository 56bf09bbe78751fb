from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kernel.errors import ApplicationError

from . import selectors, services
from .models import Lesson


def _course_or_404(code: str):
    course = selectors.course_get_by_code(code=code)
    if course is None:
        raise Http404
    return course


def catalogue(request):
    paths = selectors.catalogue(user=request.user)
    return render(request, "courses/catalogue.html", {"paths": paths})


@login_required
@require_POST
def course_enroll(request, code: str):
    course = _course_or_404(code)
    try:
        services.enrollment_create(user=request.user, course=course)
    except ApplicationError as exc:
        messages.error(request, exc.message)
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
    if request.method == "POST":
        return redirect("courses:lesson", code=course.code, pk=lesson.pk)
    return render(request, "courses/lesson_detail.html", {"course": course, "lesson": lesson, "progress": progress})


def _enroll_first_message():
    return _("Enroll in this course, and complete its required prerequisites, to open it.")
