"""THE logistic regression of training: Platt scaling, the toxicity fusion, the off-topic head, the n-gram model.

One objective for all of them (``penalised_log_loss``): the weighted log loss plus ``l2 / 2 * ||coef||^2``,
the intercept unpenalised. Dense inputs (a few columns) are fitted by Newton's method on its closed-form
gradient and Hessian, optionally on standardised columns; the sparse n-gram matrix (a million columns) by
L-BFGS on the same objective through torch's autograd. The result is a ``LinearHead``, what scoring applies.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from moderator.scoring.linear import LinearHead, sigmoid

NEWTON_ITERATIONS = 200
NEWTON_TOLERANCE = 1e-9  # largest coefficient change of the last step
HESSIAN_DAMPING = 1e-6  # keeps an unpenalised, nearly separable problem solvable; no effect on the optimum
LBFGS_ITERATIONS = 500
STD_FLOOR = 1e-9  # added to each column's standard deviation, so a constant column divides safely


@dataclass(frozen=True, eq=False)
class SparseRows:
    """A sparse matrix as one (column ids, values) pair per row, over ``columns`` columns."""

    rows: list[tuple[np.ndarray, np.ndarray]]
    columns: int

    def to_torch(self) -> torch.Tensor:
        """The float32 CSR tensor of the rows."""
        crow = np.concatenate([[0], np.cumsum([len(ids) for ids, _ in self.rows])])
        with warnings.catch_warnings():  # "sparse CSR support is in beta": the matrix-vector product is all we use
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(
                torch.from_numpy(crow),
                torch.from_numpy(np.concatenate([ids for ids, _ in self.rows])),
                torch.from_numpy(np.concatenate([v for _, v in self.rows]).astype(np.float32)),
                (len(self.rows), self.columns),
            )


def penalised_log_loss(
    logits: torch.Tensor, y: torch.Tensor, weights: torch.Tensor, coef: torch.Tensor, l2: float
) -> torch.Tensor:
    """THE objective: ``sum_i w_i * logloss(y_i, z_i) + l2 / 2 * ||coef||^2`` (the intercept is not in ``coef``)."""
    loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none") * weights).sum()
    return loss + 0.5 * l2 * (coef**2).sum()


def fit_logistic(
    x: np.ndarray | SparseRows,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    l2: float = 0.0,
    standardise: bool = False,
) -> LinearHead:
    """``p = sigmoid(head.logit(x))`` minimising ``penalised_log_loss``: Newton for arrays, L-BFGS for SparseRows.

    ``standardise`` fits on columns scaled to mean 0 and standard deviation 1 (dense inputs only); the head
    keeps the scaling, so ``head.logit`` takes raw inputs either way.
    """
    if isinstance(x, SparseRows):
        if standardise:
            raise ValueError("sparse rows cannot be standardised (centring would make them dense)")
        return _fit_sparse(x, y, weights, l2)
    return _fit_dense(np.asarray(x, np.float64), y, weights, l2, standardise)


def fit_platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling ``p = sigmoid(a * logit + b)``: (a, b), unpenalised."""
    head = fit_logistic(np.asarray(logits)[:, None], y)
    return float(head.weights[0]), head.bias


def _fit_dense(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None, l2: float, standardise: bool) -> LinearHead:
    x = np.atleast_2d(x.T).T  # a single column may come as a vector
    mean = x.mean(0) if standardise else np.zeros(x.shape[1])
    std = x.std(0) + STD_FLOOR if standardise else np.ones(x.shape[1])
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)
    penalty = np.full(z.shape[1], float(l2))
    penalty[-1] = 0.0  # the intercept
    beta = _newton(z, np.asarray(y, np.float64), w, penalty)
    return LinearHead(mean, std, beta[:-1], float(beta[-1]))


def _newton(z: np.ndarray, y: np.ndarray, w: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Minimise ``penalised_log_loss`` over ``beta`` (last entry the intercept) from its gradient and Hessian."""
    beta = np.zeros(z.shape[1])
    for _ in range(NEWTON_ITERATIONS):
        p = sigmoid(z @ beta)
        gradient = z.T @ (w * (p - y)) + penalty * beta
        hessian = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(penalty) + HESSIAN_DAMPING * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < NEWTON_TOLERANCE:
            break
    return beta


def _fit_sparse(x: SparseRows, y: np.ndarray, weights: np.ndarray | None, l2: float) -> LinearHead:
    """L-BFGS (strong Wolfe line search) in float32 on the CSR matrix, from zero."""
    matrix = x.to_torch()
    target = torch.as_tensor(np.asarray(y, np.float32))
    w = torch.as_tensor(np.ones(len(x.rows), np.float32) if weights is None else np.asarray(weights, np.float32))
    coef = torch.zeros(x.columns, requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS(
        [coef, bias],
        lr=1.0,
        max_iter=LBFGS_ITERATIONS,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-6,
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = penalised_log_loss((matrix @ coef[:, None]).squeeze(1) + bias, target, w, coef, l2)
        loss.backward()
        return loss

    opt.step(closure)
    return LinearHead.raw(coef.detach().numpy().astype(np.float32), float(bias.detach()[0]))
