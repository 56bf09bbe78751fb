"""What a newcomer trips on: the navigation to the teaching pages, the demo accounts, and hints
that point at a course that does not exist."""

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from tests.factories import CourseFactory, PathFactory, UserFactory, add_to_path


def test_instructors_find_the_gradebooks_and_the_review_queue_in_the_menu(client, db):
    instructor = UserFactory()
    CourseFactory().instructors.add(instructor)
    client.force_login(instructor)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{reverse("analytics:index")}"' in page
    assert f'href="{reverse("grading:review-queue")}"' in page


def test_learners_do_not_get_the_teaching_links(client, db):
    client.force_login(UserFactory())
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert reverse("analytics:index") not in page
    assert reverse("grading:review-queue") not in page


def test_the_last_course_of_a_path_says_nothing_about_a_next_course(client, db):
    path = PathFactory()
    add_to_path(path, CourseFactory(), 1, gate="required")
    add_to_path(path, CourseFactory(), 2, gate="recommended")
    assert "recommended before the next course" not in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    add_to_path(path, CourseFactory(), 3, gate="required")
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode().count("recommended before the next course") == 1


def test_demo_accounts_are_not_asked_to_confirm_an_address_nobody_reads(db, tmp_path):
    call_command("seed_demo", logins_file=tmp_path / "logins.txt", stdout=io.StringIO(), stderr=io.StringIO())
    users = get_user_model().objects.filter(email__endswith="@kafaat.local")
    assert users.count() == 4  # learner, instructor, university admin, staff
    assert not users.filter(email_verified_at__isnull=True).exists()
