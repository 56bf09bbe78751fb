"""Deleting a question bank or a course file asks to confirm, without JavaScript: a post without
the box ticked deletes nothing and says why; with it, it deletes."""

import pytest
from django.urls import reverse

from courses import services
from courses.models import Competency, CourseFile, QuestionBank
from tests.factories import CourseFactory, ModuleFactory, UserFactory
from tests.twofactor import login_with_2fa


@pytest.fixture
def world(db):
    course = CourseFactory(code="confirm-1", status="draft")
    ModuleFactory(course=course, position=1)
    instructor = UserFactory()
    course.instructors.add(instructor)
    competency = Competency.objects.create(code="triage", name="Triage")
    question = {"id": "q1", "type": "single", "prompt": "Which?", "points": 1,
                "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}], "answer": ["a"]}  # fmt: skip
    bank = QuestionBank.objects.create(course=course, competency=competency, questions=[question])
    spare = services.course_file_add(user=instructor, course=course, name="spare.txt", content=b"x\n")
    return {"course": course, "instructor": instructor, "bank": bank, "file": spare}


def _bank_delete(world):
    return reverse("courses:author-bank-delete", kwargs={"code": "confirm-1", "tag": "triage"})


def _file_delete(world):
    return reverse("courses:author-file-delete", kwargs={"code": "confirm-1", "pk": world["file"].pk})


# (what is deleted, its delete address, whether it still exists)
TARGETS = {
    "bank": (_bank_delete, lambda w: QuestionBank.objects.filter(pk=w["bank"].pk).exists()),
    "file": (_file_delete, lambda w: CourseFile.objects.filter(pk=w["file"].pk).exists()),
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_deleting_without_confirming_keeps_it_and_shows_the_error(client, world, target):
    address, exists = TARGETS[target]
    login_with_2fa(client, world["instructor"])
    response = client.post(address(world))
    assert response.status_code == 400
    assert response.context["confirm_form"].errors["confirm"]
    page = response.content.decode()
    assert 'aria-describedby="confirm-errors"' in page
    assert f'action="{address(world)}"' in page  # the confirmation posts to the same address
    assert exists(world)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_deleting_with_the_box_ticked_deletes_it(client, world, target):
    address, exists = TARGETS[target]
    login_with_2fa(client, world["instructor"])
    response = client.post(address(world), {"confirm": "on"})
    assert response.status_code == 302
    assert not exists(world)


def test_the_delete_buttons_are_danger_buttons_behind_a_required_box(client, world):
    login_with_2fa(client, world["instructor"])
    pages = [
        client.get(reverse("courses:author-bank-edit", kwargs={"code": "confirm-1", "tag": "triage"})),
        client.get(reverse("courses:author-files", kwargs={"code": "confirm-1"})),
    ]
    for response, action in zip(pages, [_bank_delete(world), _file_delete(world)], strict=True):
        page = response.content.decode()
        form = page[page.index(f'action="{action}"') :].split("</form>")[0]
        assert 'name="confirm"' in form and "required" in form
        assert "danger" in form
