from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from courses import permissions as course_permissions
from courses import selectors as course_selectors
from courses.models import LearningPath, PublicationStatus
from kernel.page_cache import cache_anonymous_page

from . import selectors, services

# Every page of this app is the signed-in learner's own: login_required is its whole access rule,
# and every selector is scoped to request.user.


@login_required
def dashboard(request):
    return render(request, "learning/dashboard.html", {"board": selectors.dashboard(user=request.user)})


@login_required
def path_progress(request, code: str):
    path = LearningPath.objects.filter(code=code, status=PublicationStatus.PUBLISHED).first()
    if path is None:
        raise Http404
    rows = selectors.path_progress(user=request.user, path=path)
    chart = selectors.chart(rows, rtl=get_language_bidi())
    return render(request, "learning/path_progress.html", {"path": path, "rows": rows, "chart": chart})


@login_required
def grade_history(request):
    return render(request, "learning/grades.html", {"groups": selectors.grade_history(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    if request.method == "POST":
        choices = {
            kind.value: (
                request.POST.get(f"{kind.value}-page") == "on",
                request.POST.get(f"{kind.value}-email") == "on",
            )
            for kind in selectors.notification_kinds(user=request.user)
        }
        services.notification_settings_update(user=request.user, choices=choices)
        messages.success(request, _("Your notification choices are saved."))
        return redirect("learning:notifications")
    context = {
        "notifications": selectors.notification_list(user=request.user),
        "settings": selectors.notification_settings(user=request.user),
    }
    return render(request, "learning/notifications.html", context)


@login_required
@require_POST
def notifications_read(request):
    services.notifications_mark_read(user=request.user)
    return redirect("learning:dashboard" if request.POST.get("next") == "dashboard" else "learning:notifications")


@cache_anonymous_page
def course_detail(request, code: str):
    """A course's page: its outline for everyone, and for a learner their progress in it (lessons
    done, required assignments passed) and what stands before enrolling. Learning's page because the
    progress reads grading's passes; its name stays `courses:detail` (config.urls)."""
    course = course_selectors.course_get_by_code(code=code)
    if course is None:
        raise Http404
    is_editor = course_permissions.is_course_editor(user=request.user, course=course)
    if course.status == PublicationStatus.DRAFT and not is_editor:
        raise Http404
    modules = course_selectors.course_outline(course=course)
    progress = selectors.course_progress(user=request.user, course=course, modules=modules)
    resume, started = selectors.resume_step(steps=course_selectors.course_steps(modules=modules), progress=progress)
    context = {
        "course": course,
        "is_editor": is_editor,
        "modules": modules,
        "progress": progress,
        "resume": resume,
        "started": started,
        "enrollment": course_selectors.enrollment_get(user=request.user, course=course),
        "missing": course_selectors.missing_prerequisites(user=request.user, course=course),
        "can_access": course_selectors.can_access_course(user=request.user, course=course),
    }
    return render(request, "learning/course_detail.html", context)
