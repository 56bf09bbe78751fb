"""The walking skeleton as a new learner does it, through real pages over real HTTP:
sign up, see the catalogue, open a course and enroll, read a lesson, answer a quiz wrongly then
rightly, and watch the submission go to graded with a score a Celery worker wrote."""

import email as email_parser
import re
import time
import uuid

import requests

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def first(pattern: str, html: str) -> str:
    match = re.search(pattern, html)
    assert match, f"{pattern!r} not found on the page"
    return match.group(1)


def wait_for_link(find, *, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        link = find()
        if link:
            return link
        time.sleep(0.2)
    raise AssertionError("the confirmation e-mail never came")


def link_from_console_log(log_path, to: str, marker: str = "/accounts/verify/") -> str | None:
    """The first link (whole URL) containing `marker` in an e-mail to `to`, as the console mail
    backend printed it in the embedded stack's log."""
    prefix = re.compile(r"^\S+ web\.\d+\s+\| ?")  # `honcho start` without --no-prefix
    lines = [prefix.sub("", line) for line in open(log_path, encoding="utf-8", errors="replace")]
    for raw in "".join(lines).split("-" * 79):
        match = re.search(r"^From: ", raw, re.M)  # what precedes it in a block is the server's own log
        if match is None:
            continue
        start = match.start()
        message = email_parser.message_from_string(raw[start:])
        if to not in (message.get("To") or ""):
            continue
        body = message.get_payload()  # printed as readable text: no transfer encoding to undo
        match = re.search(r"https?://\S*" + re.escape(marker) + r"\S*", body)
        if match:
            return match.group(0)
    return None


def walk(base_url: str, *, course_code: str, answers, confirmation_link, timeout: float = 60) -> dict:
    """`answers` is {field name: value(s)}, or a function of the quiz's field names that gives it.
    `confirmation_link(email)` returns the link e-mailed to confirm a sign-up (a path, or a whole
    URL, which must then be on `base_url`: the site's address follows its port), or None while it
    has not arrived."""
    s = requests.Session()
    s.headers["Accept-Language"] = "en"
    email = f"learner-{uuid.uuid4().hex[:8]}@example.org"

    # 1. Sign up, confirm the address from the e-mailed link, log in.
    page = s.get(f"{base_url}/accounts/signup/")
    assert page.status_code == 200
    password = "a-long-and-unusual-passphrase"
    r = s.post(
        f"{base_url}/accounts/signup/",
        data={"csrfmiddlewaretoken": csrf(page.text), "full_name": "Amina Learner", "email": email,
              "password": password, "accept_privacy": "on"},
        headers={"Referer": f"{base_url}/accounts/signup/"},
    )  # fmt: skip
    assert r.status_code == 200 and "Check your mailbox" in r.text, r.text[:2000]
    link = wait_for_link(lambda: confirmation_link(email), timeout=timeout)
    if link.startswith("http"):
        assert link.startswith(base_url + "/"), f"the e-mailed link {link} is not on the site's address {base_url}"
    else:
        link = base_url + link
    page = s.get(link)
    assert page.status_code == 200 and "/accounts/login/" in page.url, page.url
    r = s.post(
        page.url,
        data={"csrfmiddlewaretoken": csrf(page.text), "username": email, "password": password},
        headers={"Referer": page.url},
    )
    assert r.status_code == 200 and "/accounts/login/" not in r.url, r.text[:2000]
    r = s.get(f"{base_url}/")
    assert "Amina" in r.text

    # 2. The catalogue lists the learning path and the course.
    assert f"/courses/{course_code}/" in r.text

    # 3. Open the course and enroll.
    page = s.get(f"{base_url}/courses/{course_code}/")
    assert page.status_code == 200
    r = s.post(
        f"{base_url}/courses/{course_code}/enroll/",
        data={"csrfmiddlewaretoken": csrf(page.text)},
        headers={"Referer": page.url},
    )
    assert r.status_code == 200 and "Enrolled" in r.text

    # 4. Read a lesson and mark it done (which moves on to the next step).
    lesson_url = base_url + first(rf'href="(/courses/{course_code}/lessons/\d+/)"', r.text)
    page = s.get(lesson_url)
    assert page.status_code == 200 and "<article" in page.text
    r = s.post(lesson_url, data={"csrfmiddlewaretoken": csrf(page.text), "done": "1"}, headers={"Referer": lesson_url})
    assert r.status_code == 200 and r.url != lesson_url  # marked done, on to the next step
    assert "Marked as done" in s.get(lesson_url).text

    # 5. Open the quiz; an incomplete answer gets a form error, then answer it rightly.
    course_page = s.get(f"{base_url}/courses/{course_code}/")
    quiz_url = base_url + first(rf'href="(/courses/{course_code}/assignments/\d+/)"', course_page.text)
    page = s.get(quiz_url)
    assert page.status_code == 200
    token = csrf(page.text)
    r = s.post(quiz_url, data={"csrfmiddlewaretoken": token}, headers={"Referer": quiz_url})
    assert r.status_code == 400 and "Choose an answer to this question." in r.text
    names = set(re.findall(r'name="(q_[^"]+)"', page.text))
    if callable(answers):  # a quiz drawn from a bank: the right answers of the questions drawn
        answers = answers(names)
    assert names == set(answers), f"the quiz asks {names}"
    r = s.post(quiz_url, data={"csrfmiddlewaretoken": token, **answers}, headers={"Referer": quiz_url})
    assert r.status_code == 200 and "/submissions/" in r.url, r.text[:2000]
    first_status = first(r'data-status="([a-z_]+)"', r.text)
    assert first_status in {"queued", "running", "graded"}

    # 6. Poll the status fragment (as htmx does) until a worker has graded it.
    status_url = r.url.rstrip("/") + "/status/"
    deadline = time.monotonic() + timeout
    seen = [first_status]
    while time.monotonic() < deadline:
        poll = s.get(status_url, headers={"HX-Request": "true"})
        if poll.status_code == 204:  # still being graded: nothing to swap
            time.sleep(0.2)
            continue
        assert poll.status_code == 286, poll.status_code  # the final content; htmx stops polling
        fragment = poll.text
        status = first(r'data-status="([a-z_]+)"', fragment)
        if status != seen[-1]:
            seen.append(status)
        if status in {"graded", "failed"}:
            break
        time.sleep(0.2)
    assert seen[-1] == "graded", f"statuses seen: {seen}"
    score = first(r'data-score="([0-9.]+)"', fragment)
    return {"email": email, "statuses": seen, "score": score, "submission_url": r.url}
