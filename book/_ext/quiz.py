"""Concept checks that readers answer in the page: a ``quiz`` directive for the HTML book.

Multiple choice (the options are a numbered list; ``:answer:`` is the right one's number)::

    ```{quiz}
    :answer: 2
    The question, with $maths$ and `code` if needed.

    1. An option.
    2. The right option.

    Why 2 is right and what the others get wrong (shown once answered).
    ```

A number (``:numeric:`` the answer, ``:tolerance:`` the accepted absolute error)::

    ```{quiz}
    :numeric: 0.997
    :tolerance: 0.0005
    The question (the first paragraph).

    The explanation (everything after it).
    ```

Each check renders as a native form (a fieldset, radio buttons or a text box, a button and a
live feedback line), numbered per page; ``quiz.js`` checks answers in the browser and opens the
explanation once the answer is right or after two tries. The answer is in the page: these are
self-checks, never graded. Printing shows every explanation.
"""
import re

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

TRIES_BEFORE_EXPLANATION = 2


class quiz(nodes.General, nodes.Element):
    pass


class quiz_option(nodes.General, nodes.Element):
    pass


class quiz_number(nodes.General, nodes.Element):
    pass


class QuizDirective(SphinxDirective):
    has_content = True
    option_spec = {"answer": directives.positive_int, "numeric": float, "tolerance": float}

    def run(self):
        answer, numeric = self.options.get("answer"), self.options.get("numeric")
        if (answer is None) == (numeric is None):
            raise self.error("a quiz needs exactly one of :answer: (multiple choice) or :numeric:")
        parsed = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, parsed)
        count = self.env.temp_data["quiz_count"] = self.env.temp_data.get("quiz_count", 0) + 1
        ident = f"quiz-{re.sub(r'[^a-z0-9]+', '-', self.env.docname.lower())}-{count}"
        node = quiz(ident=ident, number=count, tries=TRIES_BEFORE_EXPLANATION)
        self.set_source_info(node)
        children = list(parsed.children)
        if answer is not None:
            lists = [i for i, child in enumerate(children) if isinstance(child, nodes.enumerated_list)]
            if not lists:
                raise self.error("a multiple-choice quiz needs its options as a numbered list")
            at = lists[0]
            options = children[at].children
            if answer > len(options):
                raise self.error(f":answer: {answer} but the quiz has {len(options)} options")
            question, explanation = children[:at], children[at + 1:]
            node["answer"] = answer
            choices = [self._option(item, ident, i) for i, item in enumerate(options, start=1)]
        else:
            question, explanation = children[:1], children[1:]
            node["numeric"], node["tolerance"] = numeric, self.options.get("tolerance", 0.0)
            choices = [quiz_number(ident=ident)]
        if not question or not explanation:
            raise self.error("a quiz needs a question and an explanation after the options")
        node += nodes.container("", *question, classes=["quiz-question"], ids=[f"{ident}-question"])
        node += choices
        node += nodes.raw("", '<p class="quiz-controls"><button type="submit">Check</button> '
                              '<span class="quiz-feedback" role="status" aria-live="polite"></span></p>',
                          format="html")
        node += nodes.container("", *explanation, classes=["quiz-explanation"])
        return [node]

    def _option(self, item, ident, value):
        paragraphs = [child for child in item.children if isinstance(child, nodes.paragraph)]
        if len(paragraphs) != 1 or len(item.children) != 1:
            raise self.error("each quiz option is one line of text")
        return quiz_option("", *paragraphs[0].children, ident=ident, value=value)


def visit_quiz(self, node):
    data = (f'data-answer="{node["answer"]}"' if "answer" in node else
            f'data-numeric="{node["numeric"]!r}" data-tolerance="{node["tolerance"]!r}"')
    self.body.append(
        f'<form class="quiz" id="{node["ident"]}" {data} data-tries="{node["tries"]}" novalidate>'
        f'<fieldset aria-describedby="{node["ident"]}-question">'
        f'<legend>Concept check {node["number"]}</legend>')


def depart_quiz(self, node):
    self.body.append("</fieldset></form>")


def visit_quiz_option(self, node):
    self.body.append(f'<label class="quiz-option"><input type="radio" name="{node["ident"]}" '
                     f'value="{node["value"]}"> <span>')


def depart_quiz_option(self, node):
    self.body.append("</span></label>")


def visit_quiz_number(self, node):
    self.body.append(f'<label class="quiz-number">Your answer: <input type="text" inputmode="decimal" '
                     f'autocomplete="off" name="{node["ident"]}"></label>')


def depart_quiz_number(self, node):
    pass


def setup(app):
    for node, visit, depart in ((quiz, visit_quiz, depart_quiz),
                                (quiz_option, visit_quiz_option, depart_quiz_option),
                                (quiz_number, visit_quiz_number, depart_quiz_number)):
        app.add_node(node, html=(visit, depart))
    app.add_directive("quiz", QuizDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
