"""The course's autograder: release, check, validate (and, later, grade) nbgrader exercises.

Student code runs in a separate process; only plain data (JSON) comes back, and every
verdict is computed here, in the trusted process, against the reference solution's results.
"""
