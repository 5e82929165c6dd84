"""Training maths: the one logistic fitter (dense Newton and sparse L-BFGS) and the model directory's config."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from moderator.scoring.artifacts import _ORDER, CONFIG_FILE, ModelConfig
from moderator.training.fit import SparseRows, fit_logistic, fit_platt, penalised_log_loss

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO / "models" / "moderator-de-v1"


def test_platt_and_logreg_fit_separable_data() -> None:
    x = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    y = np.array([0, 0, 1, 0, 1, 1], float)
    a, b = fit_platt(x[:, 0], y)
    assert a > 0
    head = fit_logistic(x, y, np.ones(len(y)), l2=1.0, standardise=True)
    logits = head.logit(x)
    assert np.all(np.diff(logits) > 0)


def test_fusion_fit_weights_both_inputs() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.4
    a = y * 1.5 + rng.normal(size=400)  # two noisy, independent views of the label
    b = y * 1.5 + rng.normal(size=400)
    head = fit_logistic(np.stack([a, b], 1), y.astype(float))
    coef, bias = head.weights, head.bias
    assert coef[0] > 0.5 and coef[1] > 0.5 and bias < 0


# What the fitters this one replaced (train.fit_logistic / fit_platt, offtopic.fit_logreg, NgramModel.fit)
# returned on these problems, recorded before they were removed.
OLD_PLATT = (1.351112159680563, -1.8932018852071507e-16)
OLD_FUSION = (1.5784881013018974, 1.6858997735909975, -2.878578166678475)
OLD_OFFTOPIC_HEAD = {
    "mean": [0.06880800572313694, 3.2503752686576313, -1.050102659046489],
    "std": [0.9499548192300697, 4.565838239790743, 0.18975723708059364],
    "weights": [0.2778927625599475, 0.7591186912552266, -0.04946126152882792],
    "bias": 4.759574644567083,
}


def test_platt_and_fusion_match_the_previous_fitter() -> None:
    x = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    assert fit_platt(x, np.array([0, 0, 1, 0, 1, 1], float)) == pytest.approx(OLD_PLATT, abs=1e-9)
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.4
    a, b = y * 1.5 + rng.normal(size=400), y * 1.5 + rng.normal(size=400)
    head = fit_logistic(np.stack([a, b], 1), y.astype(float))
    assert [*head.weights, head.bias] == pytest.approx(OLD_FUSION, abs=1e-9)


def test_weighted_l2_standardised_head_matches_the_previous_offtopic_fitter() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3)) * [1, 5, 0.2] + [0, 3, -1]
    y = (x @ [1, 0.3, -4] + rng.normal(size=200) > 0).astype(float)
    w = rng.uniform(0.05, 1, 200)
    head = fit_logistic(x, y, w, l2=3.0, standardise=True)
    for name in ("mean", "std", "weights"):
        assert getattr(head, name) == pytest.approx(OLD_OFFTOPIC_HEAD[name], abs=1e-9)
    assert head.bias == pytest.approx(OLD_OFFTOPIC_HEAD["bias"], abs=1e-9)


OLD_NGRAM_LOGITS = (0.30126500129699707, -3.6209585666656494, 1.2442893981933594)


def test_sparse_ngram_fit_matches_the_previous_fitter() -> None:
    from moderator.training.calibrate import fit_ngram_model

    texts = ["du Vollidiot", "ein guter Artikel", "danke", "Idioten überall", "das Wetter ist schön"] * 4
    y, w = np.array([1, 0, 0, 1, 0] * 4, float), np.array([1, 1, 2, 0.5, 1] * 4, float)
    model = fit_ngram_model(texts, y, w, c=10.0)
    logits = model.logits(["So ein Vollidiot", "Danke, guter Artikel", "Idioten"])
    assert logits == pytest.approx(OLD_NGRAM_LOGITS, abs=1e-5)


def test_unpenalised_fit_of_one_binary_feature_is_the_closed_form() -> None:
    """With one 0/1 input the maximum-likelihood fit is two weighted log-odds: bias at x=0, bias+coef at x=1."""
    x = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1], float)
    y = np.array([0, 1, 0, 0, 1, 1, 0, 1, 1], float)
    w = np.array([1, 2, 1, 1, 1, 1, 3, 1, 1], float)

    def log_odds(mask: np.ndarray) -> float:
        positive = (w * y)[mask].sum()
        return float(np.log(positive / (w[mask].sum() - positive)))

    head = fit_logistic(x, y, w)
    assert head.bias == pytest.approx(log_odds(x == 0), abs=1e-9)
    assert head.weights[0] == pytest.approx(log_odds(x == 1) - log_odds(x == 0), abs=1e-9)


def test_newton_solution_is_a_stationary_point_of_the_one_loss() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 2))
    y = (x[:, 0] + rng.normal(size=50) > 0).astype(float)
    w = rng.uniform(0.5, 2.0, 50)
    head = fit_logistic(x, y, w, l2=2.0)
    coef = torch.tensor(head.weights, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(head.bias, dtype=torch.float64, requires_grad=True)
    logits = torch.from_numpy(x) @ coef + bias
    penalised_log_loss(logits, torch.from_numpy(y), torch.from_numpy(w), coef, 2.0).backward()
    assert float(coef.grad.abs().max()) < 1e-8 and abs(float(bias.grad)) < 1e-8


def test_sparse_path_lands_on_the_dense_solution() -> None:
    """L-BFGS on SparseRows minimises the same objective as Newton on the same numbers (to float32 L-BFGS precision)."""
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(60, 4)) * (rng.random((60, 4)) < 0.5)
    y = (dense @ [1.0, -1.0, 0.5, 0.0] + rng.normal(size=60) > 0).astype(float)
    w = rng.uniform(0.5, 2.0, 60)
    rows = SparseRows([(np.flatnonzero(r), r[r != 0].astype(np.float32)) for r in dense], 4)
    sparse = fit_logistic(rows, y, w, l2=1.0 / 3.0)
    newton = fit_logistic(dense.astype(np.float32).astype(np.float64), y, w, l2=1.0 / 3.0)
    assert sparse.weights == pytest.approx(newton.weights, abs=2e-3)
    assert sparse.bias == pytest.approx(newton.bias, abs=2e-3)
    assert sparse.logit(dense) == pytest.approx(newton.logit(dense), abs=5e-3)
    with pytest.raises(ValueError):
        fit_logistic(rows, y, standardise=True)


def test_shipped_config_round_trips_exactly(tmp_path: Path) -> None:
    """read -> write gives the same bytes, so the shipped model's version digest cannot move."""
    config = ModelConfig.read(MODEL_DIR)
    config.write(tmp_path)
    assert (tmp_path / CONFIG_FILE).read_bytes() == (MODEL_DIR / CONFIG_FILE).read_bytes()
    assert config.toxicity.fusion.ngram > 0 and config.off_topic.reference == "blend"
    assert set(_ORDER) == {f.name for f in fields(ModelConfig)}


def test_config_rejects_unknown_fields_and_defaults_optional_ones(tmp_path: Path) -> None:
    data = json.loads((MODEL_DIR / CONFIG_FILE).read_text())
    del data["bf16"], data["article_max_length"]
    assert ModelConfig.from_json(data).bf16 is True and ModelConfig.from_json(data).article_max_length == 512
    (tmp_path / CONFIG_FILE).write_text(json.dumps({**data, "surprise": 1}))
    with pytest.raises(ValueError, match="surprise"):
        ModelConfig.read(tmp_path)


def test_python_m_moderator_train_is_the_train_command() -> None:
    """`python -m moderator train` is the same click command as `moderator train` (one entry point)."""
    out = subprocess.run(
        [sys.executable, "-m", "moderator", "train", "--help"], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    assert "--skip-finetune" in out and "Reproduce the shipped heads" in out


def test_scoring_never_imports_training_or_the_fake() -> None:
    code = (
        "import sys, moderator.scoring.transformer, moderator.scoring.bench;"
        "bad = [m for m in sys.modules if m.startswith('moderator.training') or m == 'moderator.scoring.fake'];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == ""
