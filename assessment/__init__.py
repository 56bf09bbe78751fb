"""Assessment, model-free: the kind registry (assessment.kinds: for each assignment kind its spec
and answer validation, grader and learner form) and the code sandbox. It stores nothing: courses
validate specs through it, and grading runs its graders and keeps what they return."""
