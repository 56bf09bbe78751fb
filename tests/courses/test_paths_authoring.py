"""Learning path authoring: who may list, create and edit a path (staff, its creator while they may
author, the instructors of its courses; everyone else 403), and what editing does: fields, status,
courses added, removed and reordered, each with its gate."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from courses import selectors, services
from courses.models import Competency, LearningPath, PathCourse
from kernel.errors import ApplicationError, PermissionDenied
from tests.factories import CourseFactory, PathFactory, UserFactory, add_to_path
from tests.twofactor import login_with_2fa, login_with_password_only

ROLES = ["anonymous", "learner", "other_instructor", "creator", "path_instructor", "staff"]
EDITORS = {"creator", "path_instructor", "staff"}


@pytest.fixture
def world(db):
    creator, path_instructor, other = UserFactory(), UserFactory(), UserFactory()
    CourseFactory(code="creators-own").instructors.add(creator)  # so that the creator may author
    on_path = CourseFactory(code="on-path", title="On the path")
    on_path.instructors.add(path_instructor)
    second = CourseFactory(code="second", title="Second")
    second.instructors.add(path_instructor)
    CourseFactory(code="others").instructors.add(other)
    path = PathFactory(code="p-1", status="draft", created_by=creator)
    add_to_path(path, on_path, 1)
    add_to_path(path, second, 2, gate="recommended")
    users = {"anonymous": None, "learner": UserFactory(), "other_instructor": other, "creator": creator,
             "path_instructor": path_instructor, "staff": UserFactory(is_staff=True)}  # fmt: skip
    return {"path": path, "on_path": on_path, "second": second, "users": users}


def _as(client, user):
    if user is not None:
        login_with_2fa(client, user)
    return client


def _step(world, course):
    return PathCourse.objects.get(path=world["path"], course=world[course])


def _urls(world):
    step = _step(world, "second")
    code = world["path"].code
    return {
        "edit": reverse("courses:author-path-edit", kwargs={"code": code}),
        "add": reverse("courses:author-path-course-add", kwargs={"code": code}),
        "remove": reverse("courses:author-path-course-remove", kwargs={"code": code, "pk": step.pk}),
        "move": reverse("courses:author-path-course-move", kwargs={"code": code, "pk": step.pk}),
        "gate": reverse("courses:author-path-course-gate", kwargs={"code": code, "pk": step.pk}),
    }


def _state(world):
    path = LearningPath.objects.get(pk=world["path"].pk)
    steps = list(path.path_courses.order_by("position").values_list("course__code", "position", "gate"))
    return (path.title, path.track, path.status, steps)


@pytest.mark.parametrize("role", ROLES)
def test_only_staff_the_creator_and_the_paths_instructors_open_its_page(client, world, role):
    response = _as(client, world["users"][role]).get(_urls(world)["edit"])
    assert response.status_code == (302 if role == "anonymous" else 200 if role in EDITORS else 403)


@pytest.mark.parametrize("role", [r for r in ROLES if r not in EDITORS])
def test_the_others_get_403_on_every_post_and_nothing_changes(client, world, role):
    before = _state(world)
    urls = _urls(world)
    posts = {
        "edit": {"title": "Hijacked", "track": "cybersecurity", "summary": "", "status": "published"},
        "add": {"course": world["users"]["other_instructor"].taught_courses.get().pk, "gate": "required"},
        "remove": {},
        "move": {"direction": "up"},
        "gate": {"gate": "required"},
    }
    client = _as(client, world["users"][role])
    for name, data in posts.items():
        response = client.post(urls[name], data)
        assert response.status_code == (302 if role == "anonymous" else 403), name
        if role == "anonymous":
            assert response["Location"].startswith(reverse("accounts:login"))
    assert _state(world) == before


def test_a_password_only_session_of_an_editor_cannot_edit(client, world):
    login_with_password_only(client, world["users"]["path_instructor"])
    before = _state(world)
    client.post(_urls(world)["edit"], {"title": "Nope", "track": "cybersecurity", "summary": "", "status": "draft"})
    client.post(_urls(world)["remove"])
    assert _state(world) == before


@pytest.mark.parametrize("role,expected", [("learner", 403), ("other_instructor", 200), ("staff", 200)])
def test_the_path_list_and_new_page_are_for_authors(client, world, role, expected):
    client = _as(client, world["users"][role])
    assert client.get(reverse("courses:author-paths")).status_code == expected
    assert client.get(reverse("courses:author-path-new")).status_code == expected


def test_each_author_lists_the_paths_they_may_edit_and_the_home_page_links_them(client, world):
    other_path = PathFactory(code="p-other")
    assert [p.code for p in selectors.authoring_path_list(user=world["users"]["other_instructor"])] == []
    assert [p.code for p in selectors.authoring_path_list(user=world["users"]["creator"])] == ["p-1"]
    assert [p.code for p in selectors.authoring_path_list(user=world["users"]["path_instructor"])] == ["p-1"]
    assert {p.code for p in selectors.authoring_path_list(user=world["users"]["staff"])} >= {"p-1", other_path.code}
    home = _as(client, world["users"]["path_instructor"]).get(reverse("courses:author-home")).content.decode()
    assert reverse("courses:author-paths") in home
    assert reverse("courses:author-path-edit", kwargs={"code": "p-1"}) in home


def test_an_instructor_creates_a_path_and_may_edit_it(client, world):
    author = world["users"]["other_instructor"]
    competency = Competency.objects.create(code="triage", name="Triage")
    client = _as(client, author)
    data = {"code": "p-new", "title": "Nouveau parcours", "track": "health-law", "summary": "Résumé",
            "competencies": [competency.pk], "status": "draft"}  # fmt: skip
    response = client.post(reverse("courses:author-path-new"), data)
    path = LearningPath.objects.get(code="p-new")
    assert response.status_code == 302 and response["Location"] == reverse(
        "courses:author-path-edit", kwargs={"code": "p-new"}
    )
    assert (path.created_by, path.status, path.track) == (author, "draft", "health-law")
    assert list(path.competencies.all()) == [competency]
    assert client.get(response["Location"]).status_code == 200
    # Add their own course, then publish.
    own = author.taught_courses.get()
    add = reverse("courses:author-path-course-add", kwargs={"code": "p-new"})
    assert client.post(add, {"course": own.pk, "gate": "required"}).status_code == 302
    edit = reverse("courses:author-path-edit", kwargs={"code": "p-new"})
    data.update(status="published")
    del data["code"]
    assert client.post(edit, data).status_code == 302
    path.refresh_from_db()
    assert path.status == "published"
    assert [p.code for p in selectors.catalogue(user=author).paths] == ["p-new"]


def test_a_creator_who_may_no_longer_author_loses_the_path(client, world):
    creator = world["users"]["creator"]
    creator.taught_courses.clear()
    assert _as(client, creator).get(_urls(world)["edit"]).status_code == 403


def test_a_permission_holder_who_teaches_nothing_creates_and_edits_a_path(client, db):
    """The `courses.add_course` permission (an "instructors" group) is enough to author: such a
    user keeps editing the paths they create."""
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="add_course"))
    login_with_2fa(client, user)
    data = {"code": "p-perm", "title": "P", "track": "data-science", "summary": "", "status": "draft"}
    assert client.post(reverse("courses:author-path-new"), data).status_code == 302
    assert client.get(reverse("courses:author-path-edit", kwargs={"code": "p-perm"})).status_code == 200


@pytest.mark.parametrize(
    "data,field",
    [
        ({"code": "p-1"}, "code"),  # taken
        ({"code": "new"}, "code"),  # reserved: /author/paths/new/
        ({"track": "astronomy"}, "track"),
        ({"status": "published"}, "status"),  # no course yet
        ({"title": ""}, "title"),
    ],
)
def test_a_new_path_with_a_bad_field_is_refused_on_that_field(client, world, data, field):
    client = _as(client, world["users"]["creator"])
    response = client.post(
        reverse("courses:author-path-new"),
        {"code": "p-2", "title": "T", "track": "data-science", "summary": "", "status": "draft", **data},
    )
    assert response.status_code == 400 and field in response.context["form"].errors
    assert LearningPath.objects.count() == 1


def test_an_editor_changes_the_fields_but_not_the_code(client, world):
    client = _as(client, world["users"]["path_instructor"])
    data = {"code": "changed", "title": "Renamed", "track": "cybersecurity", "summary": "New", "status": "published"}
    assert client.post(_urls(world)["edit"], data).status_code == 302
    path = LearningPath.objects.get(pk=world["path"].pk)
    assert (path.code, path.title, path.track, path.summary, path.status) == (
        "p-1", "Renamed", "cybersecurity", "New", "published",
    )  # fmt: skip


def test_courses_are_reordered_with_their_gates(client, world):
    client = _as(client, world["users"]["path_instructor"])
    urls = _urls(world)
    assert client.post(urls["move"], {"direction": "up"}).status_code == 302
    assert _state(world)[3] == [("second", 1, "recommended"), ("on-path", 2, "required")]
    client.post(urls["move"], {"direction": "up"})  # already first: nothing moves
    assert _state(world)[3] == [("second", 1, "recommended"), ("on-path", 2, "required")]
    client.post(urls["gate"], {"gate": "required"})
    client.post(urls["move"], {"direction": "down"})
    assert _state(world)[3] == [("on-path", 1, "required"), ("second", 2, "required")]
    response = client.post(urls["gate"], {"gate": "sometimes"}, follow=True)
    assert "required or recommended" in response.content.decode()
    assert _state(world)[3][1][2] == "required"


def test_an_order_change_changes_what_learners_must_complete_first(world):
    learner = UserFactory()
    assert selectors.missing_prerequisites(user=learner, course=world["second"]) == []  # draft path
    LearningPath.objects.filter(pk=world["path"].pk).update(status="published")
    assert selectors.missing_prerequisites(user=learner, course=world["second"]) == [world["on_path"]]
    services.path_course_move(user=world["users"]["staff"], path_course=_step(world, "second"), direction="up")
    assert selectors.missing_prerequisites(user=learner, course=world["second"]) == []
    assert selectors.missing_prerequisites(user=learner, course=world["on_path"]) == []  # second is recommended


def test_a_course_is_removed_from_the_path_and_the_course_stays(client, world):
    client = _as(client, world["users"]["creator"])
    assert client.post(_urls(world)["remove"]).status_code == 302
    assert _state(world)[3] == [("on-path", 1, "required")]
    world["second"].refresh_from_db()


def test_instructors_add_the_courses_they_teach_and_staff_any(client, world):
    editor = world["users"]["path_instructor"]
    mine = CourseFactory(code="mine", status="draft")
    mine.instructors.add(editor)
    foreign = CourseFactory(code="foreign")
    client = _as(client, editor)
    add = _urls(world)["add"]
    page = client.get(_urls(world)["edit"]).content.decode()
    assert f'value="{mine.pk}"' in page and f'value="{foreign.pk}"' not in page
    assert client.post(add, {"course": foreign.pk, "gate": "required"}).status_code == 400
    assert client.post(add, {"course": mine.pk, "gate": "recommended"}).status_code == 302
    assert _state(world)[3][-1] == ("mine", 3, "recommended")
    assert client.post(add, {"course": mine.pk, "gate": "required"}).status_code == 400  # already on it
    with pytest.raises(PermissionDenied):
        services.path_course_add(user=editor, path=world["path"], course=foreign)
    staff = world["users"]["staff"]
    services.path_course_add(user=staff, path=world["path"], course=foreign)
    assert _state(world)[3][-1] == ("foreign", 4, "required")
    with pytest.raises(ApplicationError):
        services.path_course_add(user=staff, path=world["path"], course=foreign)


def test_a_path_instructor_added_later_becomes_an_editor(client, world):
    colleague = UserFactory()
    client = _as(client, colleague)
    assert client.get(_urls(world)["edit"]).status_code == 403
    world["second"].instructors.add(colleague)
    assert client.get(_urls(world)["edit"]).status_code == 200


def test_the_path_page_lists_its_courses_in_order_with_their_gates(client, world):
    page = _as(client, world["users"]["staff"]).get(_urls(world)["edit"]).content.decode()
    assert page.index("On the path") < page.index("Second")
    assert '<option value="recommended" selected>' in page
    assert 'name="direction" value="down"' in page
