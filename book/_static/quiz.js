// Concept checks (book/_ext/quiz.py): check the reader's answer in the page, say whether it is
// right in the form's live feedback line, and open the explanation once the answer is right or
// after the form's data-tries wrong tries.
"use strict";

function quizValue(form) {
  if (form.dataset.answer) {
    const chosen = form.querySelector("input[type=radio]:checked");
    return chosen ? {right: chosen.value === form.dataset.answer} : {missing: "Choose an answer first."};
  }
  const typed = form.querySelector(".quiz-number input").value.trim().replace(/\u2212/g, "-").replace(/,/g, "");
  const value = Number(typed);
  if (typed === "" || !Number.isFinite(value)) return {missing: "Type a number, for example 0.25 or 1e-3."};
  return {right: Math.abs(value - Number(form.dataset.numeric)) <= Number(form.dataset.tolerance) + 1e-12};
}

function checkQuiz(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const feedback = form.querySelector(".quiz-feedback");
  const result = quizValue(form);
  if (result.missing) {
    feedback.textContent = result.missing;
    return;
  }
  const tries = Number(form.dataset.triesUsed || 0) + 1;
  form.dataset.triesUsed = tries;
  form.classList.toggle("quiz-right", result.right);
  form.classList.toggle("quiz-wrong", !result.right);
  const open = result.right || tries >= Number(form.dataset.tries);
  feedback.textContent = result.right ? "Right." :
    open ? "Not quite: the explanation below says why." : "Not quite: try again.";
  if (open) form.classList.add("quiz-explained");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.quiz").forEach((form) => form.addEventListener("submit", checkQuiz));
});
