"""Who may do what with courses: the one place where the courses app decides it.

Roles:
- anonymous: sees the catalogue and published course outlines, nothing else;
- learner: reads a published course's lessons and assignments once actively enrolled and every
  required prerequisite is complete;
- instructor of a course (Course.instructors): edits that course, previews it, exports it, and
  reads it whatever its status, without enrolling;
- another course's instructor: a learner as far as this course is concerned (may still create
  new courses and import archives, which makes them instructor of the result);
- staff: edits every course and every learning path.

Learning paths (can_edit_path): staff, the one who created the path on the authoring pages while
they may still author, and the instructors of any course on it. A path editor other than staff
adds only courses they may edit themselves: a required course placed before another locks that
other course for its learners, which is for the people who teach it (or staff) to decide.

Competencies are shared: any course's assignments, question banks and any path may use one. Renaming or
re-describing one changes every page that shows it, so only staff or someone who teaches every
course using it may (can_change_competency).

A privileged role counts only in a session that passed two-factor (accounts.privilege): before
that, staff and instructors are learners here.

Views call these functions and nothing else; services call them again for the data-dependent
checks, so a caller that skips the view still cannot write what it may not.
"""

from django.db.models import Q

from accounts.privilege import acts_privileged, is_platform_staff

from .models import Competency, Course, LearningPath, PublicationStatus


def is_course_editor(*, user, course: Course) -> bool:
    """This course's instructors and platform staff may edit it and see everything in it.
    One query at most (none for anonymous users and staff)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_platform_staff(user):
        return True
    return acts_privileged(user) and course.instructors.filter(pk=user.pk).exists()


def can_author(*, user) -> bool:
    """May open the authoring pages, create courses and import archives: staff, holders of the
    `courses.add_course` permission (an "instructors" group), and anyone who already teaches."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_platform_staff(user) or user.has_perm("courses.add_course"):
        return True
    return acts_privileged(user) and user.taught_courses.exists()


def can_view_outline(*, user, course: Course) -> bool:
    """Published and archived outlines are public; drafts only for their editors."""
    return course.status != PublicationStatus.DRAFT or is_course_editor(user=user, course=course)


def can_change_competency(*, user, competency: Competency) -> bool:
    """Staff, or an instructor of every course that uses the competency: through an assignment,
    through a path that lists it, or through a question bank. One query (none for staff)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_platform_staff(user):
        return True
    if not acts_privileged(user):
        return False
    users = Course.objects.filter(
        Q(assignments__competencies=competency)
        | Q(paths__competencies=competency)
        | Q(question_banks__competency=competency)
    )
    return not users.exclude(instructors=user).exists()


def can_edit_path(*, user, path: LearningPath) -> bool:
    """Staff; the path's creator while they may author; an instructor of one of its courses.
    Two queries at most (none for anonymous users and staff)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_platform_staff(user):
        return True
    if path.created_by_id == user.pk and can_author(user=user):
        return True
    return acts_privileged(user) and path.courses.filter(instructors=user).exists()


def can_add_to_path(*, user, course: Course) -> bool:
    """Which courses a path editor may put on a path: any for staff, the ones they edit otherwise."""
    return is_course_editor(user=user, course=course)
