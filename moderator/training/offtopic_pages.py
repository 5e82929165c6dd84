"""Fit and measure the body off-topic model (scoring/body_offtopic.py) on labelled forum pages.

The pages in ``../shared/samples/pages`` are the users' real input: an article with its body and its thread.
They are few (21 pages, 242 comments), so the model is small (four features, an L2 logistic head, two Platt
scalings) and every figure comes from cross-validation grouped by page: a page is never scored by a model that
saw it. Measured as the issue measures it, with length kept out of the evidence: wholly off-topic comments
against all others, and drifting comments against on-topic comments of at least 80 words.

The review edges of the default policy are chosen here too, by replaying the whole default policy (its
toxicity band and "a reply to a flagged comment goes to a human" included) over the threads: of the edge pairs
that send at least EDGE_RECALL of the off-topic comments to a human, the one that auto-approves the most clean
on-topic comments. The report gives what that does per page-grouped fold (edges chosen on the other pages).

The background (other news to compare a comment with) is built from the unlabelled 10kGNAD articles.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from moderator import metrics
from moderator.ingest.labelled_pages import LabelledPage, read_labelled_pages
from moderator.policy import DEFAULT_BANDS, Band, Outcome, Policy
from moderator.records import Scores
from moderator.scoring.artifacts import BodyOffTopicConfig
from moderator.scoring.backbone import Backbone
from moderator.scoring.body_offtopic import (
    BODY,
    BODY_FEATURES,
    COMMENT_MAX_LENGTH,
    TEASER,
    Background,
    body_features,
    reading,
    worst_passage,
)
from moderator.scoring.linear import apply_platt, logit, sigmoid
from moderator.scoring.text import sentence_spans
from moderator.scoring.transformer import TransformerScorer
from moderator.training import log
from moderator.training.fit import fit_logistic, fit_platt

L2 = 1.0  # chosen by page-grouped CV among 1, 3, 10 (1: whole/rest 0.90, drift by passage 0.93)
EDGE_RECALL = 0.85  # share of off-topic comments the default edges must send to a human
EDGE_GRID = tuple(round(0.15 + 0.05 * k, 2) for k in range(12))  # review edges tried: 0.15 .. 0.70
LONG_WORDS = 80  # drift is measured against on-topic comments at least this long: length is not evidence
N_TOPICS = 256
PASSAGES_PER_ARTICLE = 6
SEED = 13


@dataclass(frozen=True)
class PageRows:
    """One row per labelled comment: the head's features, the worst passage's relative similarity, labels."""

    features: np.ndarray  # [n, len(BODY_FEATURES)]
    passage: np.ndarray  # [n]
    page: np.ndarray  # [n] page names: the CV groups
    off_topic: np.ndarray
    drift: np.ndarray
    toxic: np.ndarray
    words: np.ndarray
    toxicity: np.ndarray  # the scorer's calibrated toxicity: the policy's toxicity band queues some comments
    parent: np.ndarray  # row of the comment replied to, -1 for none: replies to flagged comments are queued


def build_background(backbone: Backbone, data_dir: Path, seed: int = SEED) -> Background:
    """Other news: the 10kGNAD articles embedded whole, and N_TOPICS k-means centroids of their passages."""
    with (Path(data_dir) / "gnad10k_articles.jsonl").open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    log(f"background: {len(texts)} articles")
    articles = backbone.encode_passages(texts)
    passages = _article_passages(texts, random.Random(seed))
    log(f"background: {len(passages)} passages")
    encoded = backbone.encode_comments([("", p) for p in passages], max_length=COMMENT_MAX_LENGTH, toxicity=False)
    topics = spherical_kmeans(np.array([e.whole for e in encoded]), N_TOPICS, seed)
    return Background(articles.astype(np.float32), topics.astype(np.float32))


def _article_passages(texts: list[str], rng: random.Random) -> list[str]:
    """Up to PASSAGES_PER_ARTICLE runs of one to three sentences per article, a sentence apart."""
    out = []
    for text in texts:
        sentences = [text[a:b] for a, b in sentence_spans(text)]
        start, taken = 1, 0  # the first sentence is the subheadline
        while start < len(sentences) and taken < PASSAGES_PER_ARTICLE:
            n = rng.choice((1, 2, 3))
            out.append(" ".join(sentences[start : start + n]))
            start, taken = start + n + 1, taken + 1
    return out


def spherical_kmeans(x: np.ndarray, k: int, seed: int, iterations: int = 25) -> np.ndarray:
    """k unit centroids of unit vectors ``x`` (cosine k-means); an emptied cluster keeps its centroid."""
    rng = np.random.default_rng(seed)
    centroids = x[rng.choice(len(x), k, replace=False)]
    for _ in range(iterations):
        nearest = (x @ centroids.T).argmax(1)
        for j in range(k):
            members = x[nearest == j]
            if len(members):
                mean = members.mean(0)
                centroids[j] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return centroids


def page_rows(
    scorer: TransformerScorer, pages: list[LabelledPage], background: Background, read_as: str = BODY
) -> PageRows:
    """Encode every labelled comment as scoring does (``TransformerScorer.body_inputs``) and compute its rows,
    each page's article read as ``read_as`` (BODY, or TEASER for the teaser model)."""
    features: list[np.ndarray] = []
    passage: list[float] = []
    meta: list[tuple[str, bool, bool, bool, int]] = []
    toxicity: list[float] = []
    parent: list[int] = []
    for page in pages:
        pairs = [(c, page.article) for c in page.comments]
        encs, fused = scorer.encode(pairs)
        inputs = scorer.body_inputs(pairs, encs, fused, readings=(read_as,))
        row_of = {c.id: len(parent) + k for k, c in enumerate(page.comments)}
        parent += [row_of.get(c.parent_id or "", -1) for c in page.comments]
        toxicity += [float(sigmoid(logit)) for logit in fused]
        for i, (comment, labels) in enumerate(zip(page.comments, page.labels, strict=True)):
            enc, article, toxicity_logit, _ = inputs[i]
            features.append(body_features(enc.whole, article, background, toxicity_logit))
            # as scoring picks them; a comment without sentences (none on the pages) stands as its own passage
            candidates = [v for v, _ in enc.candidate_passages()] or [enc.whole]
            passage.append(worst_passage(candidates, article, background)[1])
            n_words = len(f"{comment.title} {comment.text}".split())
            meta.append((page.name, labels.off_topic, labels.drift, labels.toxic, n_words))
    names, off, drift, toxic, words = (np.array(column) for column in zip(*meta, strict=True))
    return PageRows(
        np.array(features), np.array(passage), names, off, drift, toxic, words, np.array(toxicity), np.array(parent)
    )


def _fit(rows: PageRows, idx: np.ndarray) -> tuple[Any, tuple[float, float], tuple[float, float]]:
    """Head, its Platt scaling (in-sample) and the passage Platt scaling, fitted on rows ``idx``."""
    y = rows.off_topic[idx].astype(float)
    head = fit_logistic(rows.features[idx], y, l2=L2, standardise=True)
    return head, fit_platt(head.logit(rows.features[idx]), y), fit_platt(rows.passage[idx], y)


def policy_queued(
    rows: PageRows, whole: np.ndarray, passage: np.ndarray, edge: float, passage_edge: float
) -> np.ndarray:
    """Which comments the default policy, with these off-topic edges, sends to a human (thread order matters:
    a reply to a queued comment is queued too)."""
    bands = {**DEFAULT_BANDS, "off_topic": Band(edge), "passage_off_topic": Band(passage_edge)}
    policy = Policy(name="cv", bands=bands)
    outcomes: list[Outcome] = []
    for i in range(len(whole)):  # parents come before their replies on a page
        parent = outcomes[rows.parent[i]] if rows.parent[i] >= 0 else None
        scores = Scores(float(rows.toxicity[i]), float(whole[i]), "cv", passage_off_topic=float(passage[i]))
        outcomes.append(policy.judge(scores, parent_outcome=parent)[0])
    return np.array([o is not Outcome.APPROVE for o in outcomes])


def choose_edges(rows: PageRows, whole: np.ndarray, passage: np.ndarray, among: np.ndarray) -> tuple[float, float]:
    """(off_topic edge, passage_off_topic edge) judged on rows ``among`` (whole pages): of the pairs that send
    EDGE_RECALL of the off-topic comments to a human, the one that auto-approves most clean on-topic comments."""
    off, clean = rows.off_topic[among], ~rows.off_topic[among] & ~rows.toxic[among]
    best: tuple[float, float, float] | None = None
    for edge in EDGE_GRID:
        for passage_edge in (e for e in EDGE_GRID if e >= edge):
            queued = policy_queued(rows, whole, passage, edge, passage_edge)[among]
            approved = float((~queued[clean]).mean()) if clean.any() else 0.0
            if queued[off].mean() >= EDGE_RECALL and (best is None or approved > best[0]):
                best = (approved, edge, passage_edge)
    return (best[1], best[2]) if best else (EDGE_GRID[0], EDGE_GRID[0])


def cross_validate(rows: PageRows) -> dict[str, Any]:
    """Leave-one-page-out: out-of-fold scores, the issue's AUCs, and the default edges' effect per fold."""
    n = len(rows.page)
    oof_logit, oof_whole, oof_passage = np.zeros(n), np.zeros(n), np.zeros(n)
    queued = np.zeros(n, bool)
    fold_edges = []
    for name in sorted(set(rows.page.tolist())):
        train, test = rows.page != name, rows.page == name
        head, platt, passage_platt = _fit(rows, np.where(train)[0])
        whole = apply_platt(head.logit(rows.features), platt)
        passage = apply_platt(rows.passage, passage_platt)
        edge, passage_edge = choose_edges(rows, whole, passage, train)
        fold_edges.append((edge, passage_edge))
        queued[test] = policy_queued(rows, whole, passage, edge, passage_edge)[test]
        oof_logit[test] = head.logit(rows.features[test])
        oof_whole[test], oof_passage[test] = whole[test], passage[test]
    report = _report(rows, oof_whole, oof_passage, queued)
    report["fold_edges"] = sorted({f"{e:g}/{p:g}" for e, p in fold_edges})
    return {"oof_logit": oof_logit, "report": report}


def _report(rows: PageRows, whole: np.ndarray, passage: np.ndarray, queued: np.ndarray) -> dict[str, Any]:
    off, drift = rows.off_topic, rows.drift
    wholly = off & ~drift
    long_on = ~off & (rows.words >= LONG_WORDS)
    versus = drift | long_on
    clean = ~off & ~rows.toxic
    return {
        "comments": int(len(off)),
        "pages": len(set(rows.page.tolist())),
        "off_topic": int(off.sum()),
        "drift": int(drift.sum()),
        "roc_auc_wholly_off_topic_vs_rest": metrics.roc_auc(wholly, whole),
        "roc_auc_off_topic_vs_rest": metrics.roc_auc(off, whole),
        "roc_auc_drift_vs_long_on_topic_by_passage": metrics.roc_auc(drift[versus], passage[versus]),
        "roc_auc_drift_vs_long_on_topic_by_whole": metrics.roc_auc(drift[versus], whole[versus]),
        "long_on_topic_comments": int(long_on.sum()),
        "roc_auc_length_alone_wholly_vs_rest": metrics.roc_auc(wholly, rows.words.astype(float)),
        "default_policy_edges_chosen_on_other_pages": {
            "off_topic_queued": float(queued[off].mean()),
            "drift_queued": float(queued[drift].mean()),
            "clean_on_topic_auto_approved": float((~queued[clean]).mean()),
            "clean_on_topic": int(clean.sum()),
        },
    }


def fit_body_model(rows: PageRows, cv: dict[str, Any]) -> tuple[BodyOffTopicConfig, dict[str, Any]]:
    """The shipped head (fitted on every page), calibrated on the pooled out-of-fold logits, and its edges."""
    y = rows.off_topic.astype(float)
    head = fit_logistic(rows.features, y, l2=L2, standardise=True)
    platt = fit_platt(cv["oof_logit"], y)
    passage_platt = fit_platt(rows.passage, y)
    whole = apply_platt(cv["oof_logit"], platt)
    passage = apply_platt(rows.passage, passage_platt)
    edge, passage_edge = choose_edges(rows, whole, passage, np.ones(len(whole), bool))
    queued = policy_queued(rows, whole, passage, edge, passage_edge)
    pooled = _report(rows, whole, passage, queued)["default_policy_edges_chosen_on_other_pages"]
    config = BodyOffTopicConfig(
        features=list(BODY_FEATURES),
        mean=head.mean.tolist(),
        std=head.std.tolist(),
        weights=head.weights.tolist(),
        bias=float(head.bias),
        platt=list(platt),
        passage_platt=list(passage_platt),
        threshold=edge,
        passage_threshold=passage_edge,
        comment_max_length=COMMENT_MAX_LENGTH,
    )
    return config, {"edges": {"off_topic": edge, "passage_off_topic": passage_edge}, "pooled_with_these_edges": pooled}


def train_offtopic_pages(
    scorer: TransformerScorer, data_dir: Path, pages_dir: Path
) -> tuple[BodyOffTopicConfig, Background, dict[str, Any]]:
    """Background, page rows, page-grouped CV, then the shipped fit; returns (config, background, report)."""
    t0 = time.time()
    pages, problems = read_labelled_pages(pages_dir)
    if problems or not pages:
        raise ValueError(f"{pages_dir}: " + ("; ".join(problems) or "no labelled pages"))
    background = build_background(scorer.backbone, data_dir)
    scorer.use_background(background)
    rows = page_rows(scorer, pages, background)
    cv = cross_validate(rows)
    config, shipped = fit_body_model(rows, cv)
    report = {
        "features": list(BODY_FEATURES),
        "l2": L2,
        "edge_recall": EDGE_RECALL,
        "cv": {"grouped_by": "page", "folds": "leave one page out", **cv["report"]},
        "shipped": shipped,
        "background": {"articles": len(background.articles), "topics": len(background.topics)},
        "seconds": round(time.time() - t0),
    }
    log("off-topic pages CV: " + json.dumps({k: v for k, v in cv["report"].items() if k.startswith("roc")}))
    return config, background, report


def as_teaser(page: LabelledPage) -> LabelledPage:
    """The page as a newsroom that sends only headline and teaser would: its article without the body."""
    return replace(page, article=replace(page.article, id=f"{page.article.id}#teaser", body=""))


def train_offtopic_teaser(
    scorer: TransformerScorer, pages_dir: Path, body: BodyOffTopicConfig
) -> tuple[BodyOffTopicConfig, dict[str, Any]]:
    """The teaser model: the body model's form fitted on the labelled pages cut to headline and teaser
    (``as_teaser``), against the scorer's background (the body model's); page-grouped CV as for the body model.

    Its calibration is then shifted so that the edges its CV chose fall on the body model's: one default policy
    means the same under a body, a teaser and a headline (the title head is aligned the same way).
    """
    pages, problems = read_labelled_pages(pages_dir)
    if problems or not pages:
        raise ValueError(f"{pages_dir}: " + ("; ".join(problems) or "no labelled pages"))
    background = scorer.background
    if background is None:
        raise ValueError("the teaser model is fitted over a model with the body model's background")
    teasers = [page for page in map(as_teaser, pages) if reading(page.article)[0] == TEASER]
    log(f"teaser model: {len(teasers)} of {len(pages)} pages have a teaser")
    rows = page_rows(scorer, teasers, background, read_as=TEASER)
    cv = cross_validate(rows)
    fitted, shipped = fit_body_model(rows, cv)
    shift = float(logit(body.threshold) - logit(fitted.threshold))
    passage_shift = float(logit(body.passage_threshold) - logit(fitted.passage_threshold))
    (a, b), (pa, pb) = fitted.platt, fitted.passage_platt
    config = replace(
        fitted,
        platt=[a, b + shift],
        passage_platt=[pa, pb + passage_shift],
        threshold=body.threshold,
        passage_threshold=body.passage_threshold,
    )
    report = {
        "features": list(BODY_FEATURES),
        "l2": L2,
        "pages": [page.name for page in teasers],
        "cv": {"grouped_by": "page", "folds": "leave one page out", **cv["report"]},
        "shipped": shipped,
        "alignment": {
            "own_edges": [fitted.threshold, fitted.passage_threshold],
            "to_body_edges": [body.threshold, body.passage_threshold],
            "logit_shifts": [shift, passage_shift],
        },
    }
    log("off-topic teaser CV: " + json.dumps({k: v for k, v in cv["report"].items() if k.startswith("roc")}))
    return config, report
