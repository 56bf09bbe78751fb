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


def test_deleting_a_bank_without_confirming_keeps_it_and_shows_the_error(client, world):
    login_with_2fa(client, world["instructor"])
    response = client.post(_bank_delete(world))
    assert response.status_code == 400
    assert response.context["confirm_form"].errors["confirm"]
    assert 'aria-describedby="confirm-errors"' in response.content.decode()
    assert QuestionBank.objects.filter(pk=world["bank"].pk).exists()


def test_deleting_a_bank_with_the_box_ticked_deletes_it(client, world):
    login_with_2fa(client, world["instructor"])
    response = client.post(_bank_delete(world), {"confirm": "on"})
    assert response.status_code == 302
    assert not QuestionBank.objects.filter(pk=world["bank"].pk).exists()


def test_deleting_a_file_without_confirming_keeps_it_and_shows_the_error(client, world):
    login_with_2fa(client, world["instructor"])
    response = client.post(_file_delete(world))
    assert response.status_code == 400
    assert response.context["confirm_form"].errors["confirm"]
    assert CourseFile.objects.filter(pk=world["file"].pk).exists()


def test_deleting_a_file_with_the_box_ticked_deletes_it(client, world):
    login_with_2fa(client, world["instructor"])
    response = client.post(_file_delete(world), {"confirm": "on"})
    assert response.status_code == 302
    assert not CourseFile.objects.filter(pk=world["file"].pk).exists()


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
