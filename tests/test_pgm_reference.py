"""The reference solution of the PGM exercise reproduces published results and agrees with
independent implementations (pgmpy, networkx, scipy)."""
import warnings
from itertools import product

import networkx as nx
import numpy as np
import pytest
from scipy import integrate, stats


with warnings.catch_warnings():  # pgmpy 1.1 warns about its own deprecated estimators on import
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.inference import VariableElimination
from pgmpy.base import DAG
from pgmpy.factors.discrete import TabularCPD
from pgmpy.models import DiscreteBayesianNetwork


ASSIGNMENT = "pgm"   # the `ref` fixture (conftest.py) runs its reference solution


def random_dag(rng, n_nodes, edge_probability):
    """A parents dict listing nodes parents first (in a random order of the names)."""
    names = [f"v{i}" for i in rng.permutation(n_nodes)]
    return {c: tuple(q for q in names[:i] if rng.random() < edge_probability) for i, c in enumerate(names)}


def random_network(rng, n_nodes=6, edge_probability=0.5):
    parents = random_dag(rng, n_nodes, edge_probability)
    p_true = {n: {v: float(rng.uniform(0.02, 0.98)) for v in product((True, False), repeat=len(pa))}
              for n, pa in parents.items()}
    return parents, p_true


def to_pgmpy(parents, p_true):
    model = DiscreteBayesianNetwork([(q, n) for n, pa in parents.items() for q in pa])
    model.add_nodes_from(parents)
    for n, pa in parents.items():
        p = np.array([p_true[n][c] for c in product((False, True), repeat=len(pa))])
        model.add_cpds(TabularCPD(n, 2, [1 - p, p], evidence=list(pa) or None,
                                  evidence_card=[2] * len(pa) or None,
                                  state_names={v: [False, True] for v in (n, *pa)}))
    assert model.check_model()
    return model


# --- Q1 and Q2: the factorisation and its parameters ------------------------------------------

def test_joint_probability_equals_pgmpys_joint(ref):
    rng = np.random.default_rng(1)
    for _ in range(5):
        parents, p_true = random_network(rng)
        names = list(parents)
        joint = VariableElimination(to_pgmpy(parents, p_true)).query(names, joint=True, show_progress=False)
        total = 0.0
        for values in product((True, False), repeat=len(names)):
            ours = ref["joint_probability"](parents, p_true, dict(zip(names, values)))
            assert ours == pytest.approx(joint.get_value(**dict(zip(names, values))), rel=1e-10)
            total += ours
        assert total == pytest.approx(1.0, rel=1e-12)


def test_joint_probability_of_the_aima_example(ref):
    """Russell & Norvig (2010), §14.2.1: P(j, m, a, not b, not e) = 0.000628."""
    p = ref["joint_probability"](ref["burglary_parents"], ref["burglary_p_true"],
                                 {"B": False, "E": False, "A": True, "J": True, "M": True})
    assert p == pytest.approx(0.000628, abs=5e-7)


def test_parameter_count_matches_aima_and_pgmpy_tables(ref):
    """10 free parameters for the burglary network (AIMA §14.2), and in general the number of
    free entries of pgmpy's TabularCPDs, for random cardinalities."""
    count = ref["n_free_parameters"]
    assert count(ref["burglary_parents"], dict.fromkeys("BEAJM", 2)) == 10
    rng = np.random.default_rng(2)
    for _ in range(10):
        parents = random_dag(rng, 6, 0.5)
        card = {n: int(rng.integers(2, 5)) for n in parents}
        cpds = []
        for n, pa in parents.items():
            columns = int(np.prod([card[q] for q in pa]))
            values = rng.dirichlet(np.ones(card[n]), size=columns).T
            cpds.append(TabularCPD(n, card[n], values, evidence=list(pa) or None,
                                   evidence_card=[card[q] for q in pa] or None))
        expected = sum((c.variable_card - 1) * c.get_values().shape[1] for c in cpds)
        assert count(parents, card) == expected


# --- Q3: topological order --------------------------------------------------------------------

def test_topological_order_is_networkx_lexicographical_sort(ref):
    """networkx's lexicographical_topological_sort takes the smallest ready node each time:
    exactly the exercise's rule."""
    rng = np.random.default_rng(3)
    for _ in range(30):
        parents = random_dag(rng, int(rng.integers(2, 14)), float(rng.uniform(0.1, 0.7)))
        shuffled = dict(sorted(parents.items(), key=lambda _: rng.random()))
        graph = nx.DiGraph([(q, n) for n, pa in parents.items() for q in pa])
        graph.add_nodes_from(parents)
        assert ref["topological_order"](shuffled) == list(nx.lexicographical_topological_sort(graph))


def test_topological_order_rejects_cycles(ref):
    with pytest.raises(ValueError):
        ref["topological_order"]({"a": ("b",), "b": ("a",)})


# --- Q4: ancestral sampling -------------------------------------------------------------------

def test_ancestral_samples_follow_the_joint_distribution(ref):
    """A chi-square test of the 16 joint configurations of 50 000 seeded sprinkler samples
    against the exact joint probabilities (configurations of probability 0 never occur)."""
    parents, p_true = ref["sprinkler_parents"], ref["sprinkler_p_true"]
    n = 50_000
    samples = ref["ancestral_sample"](parents, p_true, n, np.random.default_rng(4))
    observed, expected = [], []
    for values in product((True, False), repeat=4):
        hits = np.ones(n, dtype=bool)
        for node, v in zip("CSRW", values):
            hits &= samples[node] == v
        p = ref["joint_probability"](parents, p_true, dict(zip("CSRW", values)))
        if p == 0:
            assert not hits.any()
        else:
            observed.append(hits.sum())
            expected.append(n * p)
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_ancestral_sampling_uses_one_uniform_draw_per_node(ref):
    """The recipe of the exercise: node k of the network is u_k < p with u_k = rng.random(n)."""
    parents, p_true = ref["burglary_parents"], ref["burglary_p_true"]
    samples = ref["ancestral_sample"](parents, p_true, 300, np.random.default_rng(5))
    u = np.random.default_rng(5).random((len(parents), 300))
    for k, (node, pa) in enumerate(parents.items()):
        p = np.array([p_true[node][tuple(samples[q][s] for q in pa)] for s in range(300)])
        assert np.array_equal(samples[node], u[k] < p)


# --- Q5: exact inference ----------------------------------------------------------------------

@pytest.mark.parametrize("network, query, evidence, published, tolerance", [
    ("burglary", "B", {"J": True, "M": True}, 0.284, 5e-4),        # AIMA 3rd ed. §14.4.1
    ("sprinkler", "S", {"W": True}, 0.4298, 5e-5),                  # Murphy (1998)
    ("sprinkler", "R", {"W": True}, 0.7079, 5e-5),                  # Murphy (1998)
    ("sprinkler", "S", {"W": True, "R": True}, 0.1945, 5e-5),       # Murphy (1998), explaining away
])
def test_posterior_reproduces_published_values(ref, network, query, evidence, published, tolerance):
    p = ref["enumerate_posterior"](ref[f"{network}_parents"], ref[f"{network}_p_true"], query, evidence)
    assert p == pytest.approx(published, abs=tolerance)


def test_posterior_equals_pgmpy_variable_elimination(ref):
    rng = np.random.default_rng(6)
    for _ in range(8):
        parents, p_true = random_network(rng)
        inference = VariableElimination(to_pgmpy(parents, p_true))
        names = list(parents)
        for _ in range(5):
            query, *observed = rng.choice(names, size=int(rng.integers(1, 4)), replace=False)
            evidence = {str(n): bool(rng.random() < 0.5) for n in observed}
            theirs = inference.query([str(query)], evidence=evidence, show_progress=False)
            ours = ref["enumerate_posterior"](parents, p_true, str(query), evidence)
            assert ours == pytest.approx(theirs.get_value(**{str(query): True}), rel=1e-10)


# --- Q6: d-separation -------------------------------------------------------------------------

def test_d_separation_agrees_with_pgmpy_and_networkx(ref):
    """Three independent implementations agree on 1500 random queries."""
    rng = np.random.default_rng(7)
    n_separated = 0
    for _ in range(150):
        parents = random_dag(rng, int(rng.integers(3, 10)), float(rng.uniform(0.15, 0.6)))
        dag = DAG([(q, n) for n, pa in parents.items() for q in pa])
        dag.add_nodes_from(parents)
        graph = nx.DiGraph(dag.edges())
        graph.add_nodes_from(parents)
        names = list(parents)
        for _ in range(10):
            x, y = (str(v) for v in rng.choice(names, size=2, replace=False))
            given = [n for n in names if n not in (x, y) and rng.random() < 0.35]
            ours = ref["d_separated"](parents, x, y, given)
            assert ours == (not dag.is_dconnected(x, y, observed=given)), (parents, x, y, given)
            assert ours == nx.is_d_separator(graph, {x}, {y}, set(given)), (parents, x, y, given)
            n_separated += ours
    assert 300 < n_separated < 1200



# --- Q8: the Markov blanket -------------------------------------------------------------------

def test_markov_blanket_agrees_with_pgmpy(ref):
    """The reference blanket equals pgmpy's get_markov_blanket on every node of random DAGs,
    including DAGs whose dict does not list parents first."""
    rng = np.random.default_rng(9)
    for _ in range(100):
        parents = random_dag(rng, int(rng.integers(2, 10)), float(rng.uniform(0.1, 0.7)))
        parents = dict(sorted(parents.items()))
        dag = DAG([(q, n) for n, pa in parents.items() for q in pa])
        dag.add_nodes_from(parents)
        for node in parents:
            assert ref["markov_blanket"](parents, node) == set(dag.get_markov_blanket(node)), (parents, node)


def test_markov_blanket_makes_the_node_independent_of_the_rest(ref):
    """By enumeration on random networks: P(node | its blanket) = P(node | every other node)."""
    rng = np.random.default_rng(10)
    for _ in range(5):
        parents, p_true = random_network(rng, n_nodes=6, edge_probability=0.5)
        names = list(parents)
        for node in names:
            blanket = ref["markov_blanket"](parents, node)
            others = [n for n in names if n != node]
            values = dict(zip(others, (bool(v) for v in rng.random(len(others)) < 0.5)))
            given_all = ref["enumerate_posterior"](parents, p_true, node, values)
            given_blanket = ref["enumerate_posterior"](parents, p_true, node, {n: values[n] for n in blanket})
            assert given_blanket == pytest.approx(given_all, rel=1e-10)

# --- Q7: the standard-candle log-density ------------------------------------------------------

def test_log_joint_integrates_to_the_exponnorm_marginal(ref):
    """Integrating exp(log_joint) over M and A for one star gives the exponentially modified
    Gaussian density of the chapter: a closed form."""
    mu, m, sigma = 14.0, 15.1, 0.07
    M_bar, s_M, A_bar = ref["M_BAR"], ref["SIGMA_M"], ref["A_BAR"]

    def density(A, M):
        return np.exp(ref["log_joint"](mu, np.array([M]), np.array([A]), np.array([m]), np.array([sigma])))

    integral, _ = integrate.dblquad(density, M_bar - 8 * s_M, M_bar + 8 * s_M, 0.0, 12 * A_bar,
                                    epsabs=1e-12, epsrel=1e-10)
    s = np.hypot(s_M, sigma)
    assert integral == pytest.approx(stats.exponnorm.pdf(m, A_bar / s, loc=mu + M_bar, scale=s), rel=1e-6)


def test_log_joint_is_a_sum_over_stars(ref):
    rng = np.random.default_rng(8)
    M, A = rng.normal(0.6, 0.15, 10), rng.exponential(0.3, 10)
    sigma = rng.uniform(0.02, 0.1, 10)
    m = rng.normal(M + 15.0 + A, sigma)
    total = ref["log_joint"](15.0, M, A, m, sigma)
    parts = [ref["log_joint"](15.0, M[i:i + 1], A[i:i + 1], m[i:i + 1], sigma[i:i + 1]) for i in range(10)]
    assert total == pytest.approx(sum(parts), rel=1e-12)


# --- the probes accept every correct method ----------------------------------------------------

ALTERNATIVES = {
    # the chapter's vectorised sampler: one boolean mask per CPT row instead of a loop over samples
    "q4-answer": '''
def ancestral_sample(parents, p_true, n, rng):
    samples = {}
    for node, pa in parents.items():
        p = np.zeros(n)
        for values, p_row in p_true[node].items():
            rows = np.ones(n, dtype=bool)
            for parent, value in zip(pa, values):
                rows &= samples[parent] == value
            p[rows] = p_row
        samples[node] = rng.random(n) < p
    return samples
''',
    # Shachter's Bayes-ball: an observed node bounces a ball from a parent back up, no ancestor set
    "q6-answer": '''
def d_separated(parents, x, y, observed):
    observed = set(observed)
    children = {n: [c for c, pa in parents.items() if n in pa] for n in parents}
    seen, queue = set(), [(x, "from_child")]
    while queue:
        n, how = queue.pop(0)
        if (n, how) in seen:
            continue
        seen.add((n, how))
        if n == y:
            return False
        if how == "from_child" and n not in observed:
            queue += [(p, "from_child") for p in parents[n]] + [(c, "from_parent") for c in children[n]]
        elif how == "from_parent":
            if n in observed:
                queue += [(p, "from_child") for p in parents[n]]
            else:
                queue += [(c, "from_parent") for c in children[n]]
    return True
''',
    # the neighbours of the node in the moral graph
    "q8-answer": '''
def markov_blanket(parents, node):
    links = set()
    for child, pa in parents.items():
        family = [child, *pa]
        links |= {(a, b) for a in family for b in family if a != b}
    return {b for a, b in links if a == node}
''',
    # Kahn's algorithm with a heap of ready nodes
    "q3-answer": '''
import heapq

def topological_order(parents):
    waiting = {n: len(set(pa)) for n, pa in parents.items()}
    children = {n: [c for c, pa in parents.items() if n in pa] for n in parents}
    ready = [n for n, k in waiting.items() if k == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        n = heapq.heappop(ready)
        order.append(n)
        for c in children[n]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, c)
    if len(order) < len(parents):
        raise ValueError("cycle")
    return order
''',
}


def test_other_correct_methods_earn_full_marks(grade_with_answers):
    results = grade_with_answers("pgm", ALTERNATIVES)
    assert all(r.points == r.max_points for r in results), results
