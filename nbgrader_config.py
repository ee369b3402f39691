"""nbgrader's configuration for this course: solutions/ is the source, exercises/ the release.

Plain nbgrader commands work from the repository root (e.g. `nbgrader generate_assignment
mixtures`), but the course's own `python -m autograder release` is the supported way to
release: it runs the same nbgrader converter and writes canonical, git-friendly notebooks.
"""
c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
