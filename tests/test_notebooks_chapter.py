"""The notebooks chapter's commands did what its text says, when the book was built.

The chapter (book/notebooks.md) runs every tool it teaches on files it makes in a temporary
folder and glues what happened; these tests read the glued values from the built book:

- the period search: Lafler & Kinman's string length and the Lomb-Scargle periodogram (scipy)
  both recover the simulated RR Lyrae period within a few grid steps;
- git's line merge of two reruns of the notebook conflicts and leaves a file that is not JSON,
  even though the two people edited different cells; with nbstripout as a filter git stores
  no outputs, keeps the cell ids (``--keep-id``) and merges the same edits cleanly;
- a conflicting edit of one line stops both merges, and only nbdime's merge driver leaves a
  valid notebook;
- importnb's definitions-only import is faster than the whole notebook; an editable install
  and ``%autoreload`` see edits without reinstalling or restarting;
- jupytext's MyST and percent round trips give back the same cells; testbook's two tests pass;
- cells run in another order than printed show it in their counts, fail after a restart with
  the NameError of the name defined below, and are the upward edge of the dependency figure.
"""
import pytest

CHAPTER = "notebooks"
pytestmark = pytest.mark.book


def test_both_period_searches_recover_the_simulated_period(glued):
    step = glued["nb_grid_step"]
    assert abs(glued["nb_best_string"] - glued["nb_true_period"]) < 5 * step
    assert abs(glued["nb_best_lomb_scargle"] - glued["nb_true_period"]) < 5 * step


def test_outputs_are_most_of_the_executed_file(glued):
    assert glued["nb_output_share"] > 50
    assert glued["nb_file_bytes"] > 10_000


def test_a_line_merge_of_two_reruns_conflicts_and_breaks_the_json(glued):
    assert glued["nb_plain_conflicts"] >= 1


def test_nbstripout_stores_no_outputs_keeps_ids_and_lets_git_merge(glued):
    assert glued["nb_outputs_on_disk"] > 0 and glued["nb_outputs_in_git"] == 0
    assert glued["nb_stripped_merge_clean"] is True


def test_only_nbdimes_driver_keeps_a_conflicted_notebook_valid(glued):
    assert glued["nb_nbdime_exit"] != 0, "a real conflict must still stop the merge"
    assert glued["nb_git_conflict_valid"] is False
    assert glued["nb_nbdime_conflict_valid"] is True


def test_importing_definitions_only_skips_the_analysis(glued):
    assert glued["nb_import_defs"] < glued["nb_import_full"]


def test_editable_install_and_autoreload_see_edits(glued):
    assert "/src/lcsearch/__init__.py" in glued["nb_editable_path"]
    assert glued["nb_editable_sees_edit"] is True
    assert glued["nb_autoreload_changed"] is True


def test_text_round_trips_and_testbook(glued):
    assert glued["nb_round_trip_same"] is True
    assert glued["nb_testbook_summary"].startswith("2 passed")


def test_out_of_order_cells_show_in_counts_fail_on_restart_and_point_up(glued):
    counts = glued["nb_tidied_counts"]
    assert counts != sorted(counts)
    assert glued["nb_tidied_restart"].startswith("NameError") and "'periods'" in glued["nb_tidied_restart"]
    assert glued["nb_upward_edges"] == [("grid", "search", ["periods"])]
