"""The transformer scorer: toxicity (fine-tuned top of multilingual-e5-small) and off-topic (e5 similarity).

The encoder pass lives in backbone.py; this module turns its outputs into ``Scores``. The fine-tuned top
layers' toxicity logit is fused with the n-gram model's (ngrams.py); for comments at or above the threshold,
gradient x input at the shared bottom's output plus the n-gram model's per-token shares name the words that
drove the score. Off-topic compares the comment (and each run of its sentences) with its article, whose
vectors are embedded once and cached.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from moderator.records import HOUSE_LABEL, Article, Comment, Scores
from moderator.scoring import default_model_dir
from moderator.scoring.artifacts import E5_COLUMN, OFFTOPIC_WEIGHTS, ModelConfig, heads_digest, reads_e5_columns
from moderator.scoring.backbone import (
    Attribution,
    Backbone,
    Encoded,
    load_backbone,
    return_freed_memory,
    tune_the_allocator_for_scoring,
)
from moderator.scoring.base import Pairs
from moderator.scoring.body_offtopic import (
    BACKGROUND_ARTICLES,
    BACKGROUND_TOPICS,
    BODY,
    COMMENT_MAX_LENGTH,
    TEASER,
    TITLE,
    ArticleVectors,
    Background,
    body_features,
    reading,
    worst_passage,
)
from moderator.scoring.linear import LinearHead, apply_platt, sigmoid
from moderator.scoring.ngrams import NgramModel
from moderator.scoring.offtopic import pair_features, unit
from moderator.scoring.precision import PrecisionChoice, choose_precision
from moderator.scoring.text import STOPWORDS, WORD, comment_text

ARTICLE_CACHE = 4096  # article vectors kept between score() calls
# An article as scoring reads it: headline vector, whole-text vector, the sentence vectors of the model that
# judges it, and which model that is (body_offtopic.reading: BODY, TEASER or TITLE).
ArticleReading = tuple[np.ndarray, np.ndarray, np.ndarray, str]


def side_by_side_workers() -> int:
    """How many batches ``score_batches`` scores at once: 2 where torch has 2 threads or more, else 1."""
    return 2 if torch.get_num_threads() >= 2 else 1


class TransformerScorer:
    """Scores (comment, article) pairs with the shipped heads; deterministic for the same input."""

    def __init__(
        self,
        backbone: Backbone,
        config: ModelConfig,
        projection: np.ndarray,
        ngrams: NgramModel,
        background: Background | None = None,
    ) -> None:
        self.backbone, self.model_config, self.ngrams = backbone, config, ngrams
        self.config: dict[str, Any] = config.to_json()  # the same, as JSON (reports and tests read it)
        self.model_version: str = config.model_version
        self.labels: list[str] = config.labels
        ot = config.off_topic
        self._ot = LinearHead.of(ot)
        self._generic = np.array(ot.generic, np.float32)
        self._projection = projection
        body, teaser = config.off_topic_body, config.off_topic_teaser
        self._body = None if body is None or background is None else LinearHead.of(body)
        self._teaser = None if teaser is None or self._body is None else LinearHead.of(teaser)
        self._house = None if config.house is None else LinearHead.of(config.house)
        self._background = background
        self._articles: dict[str, ArticleReading] = {}
        self._articles_lock = threading.Lock()  # score_batches scores two batches at once; an article is embedded once
        self.batch_workers = side_by_side_workers()
        self.batch_size = 32
        # Words (a backward pass each) are computed while scoring for comments at or above this toxicity and
        # the model's threshold, and below ``words_until``: a caller sets them to its policy's review band, where
        # a person will read them. Other comments over the threshold (under the band, or rejected without a
        # person) are marked ``words_pending`` and get their words when someone opens them.
        self.words_from = 0.0
        self.words_until = float("inf")
        self.precision = PrecisionChoice(backbone.precision, "as built", "")  # load() records why

    @classmethod
    def load(
        cls,
        model_dir: Path | None = None,
        base_dir: Path | None = None,
        device: str = "cpu",
        *,
        allow_download: bool = False,
        precision: str = "auto",
    ) -> TransformerScorer:
        """Load shipped heads from ``model_dir`` over the base model (converted cache, or ``base_dir``).

        ``precision`` ("auto", "fp32", "bf16") picks the numerics (see precision.py); the path that
        runs is part of the model version recorded with each score.
        """
        from safetensors.torch import load_file

        if device != "cpu":
            raise ValueError("only device='cpu' is supported by this build")
        model_dir = Path(model_dir) if model_dir else default_model_dir()
        config = ModelConfig.read(model_dir)
        tune_the_allocator_for_scoring()  # before the precision probe's threads take heaps of their own
        choice = choose_precision(precision)
        base = base_dir or config.base_model or None
        backbone = load_backbone(
            Path(base) if base else None,
            n_frozen=int(config.n_frozen),
            max_length=int(config.max_length),
            toxicity_dir=model_dir,
            labels=tuple(config.labels),
            article_max_length=int(config.article_max_length),
            query_prefix=config.query_prefix,
            precision=choice.precision,
            allow_download=allow_download,
        )
        extra = load_file(str(model_dir / OFFTOPIC_WEIGHTS))
        background = None
        if BACKGROUND_ARTICLES in extra and BACKGROUND_TOPICS in extra:
            background = Background(
                extra[BACKGROUND_ARTICLES].float().numpy(), extra[BACKGROUND_TOPICS].float().numpy()
            )
        version = f"{config.model_version}+heads-{heads_digest(model_dir)}+{choice.version_tag}"
        scorer = cls(
            backbone,
            replace(config, model_version=version),
            extra["projection"].float().numpy(),
            NgramModel.load(model_dir),
            background,
        )
        scorer.precision = choice
        return scorer

    @property
    def background(self) -> Background | None:
        """The other news off-topic compares with under a body or a teaser (None: the title head alone)."""
        return self._background

    def use_background(self, background: Background) -> None:
        """Read article bodies against ``background`` from now on (training does this before the head exists)."""
        self._background = background
        self._articles.clear()  # cached articles lack their sentence vectors

    @property
    def thresholds(self) -> dict[str, float]:
        """Operating thresholds chosen on dev data (toxicity) and grouped CV (off-topic, and under a body)."""
        out = {
            "toxic": float(self.model_config.toxicity.threshold),
            "off_topic": float(self.model_config.off_topic.threshold),
        }
        if self.model_config.off_topic_body is not None:
            out["off_topic_body"] = float(self.model_config.off_topic_body.threshold)
        if self.model_config.off_topic_teaser is not None:
            out["off_topic_teaser"] = float(self.model_config.off_topic_teaser.threshold)
        return out

    @property
    def judged_readings(self) -> tuple[str, ...]:
        """The article readings a model of this scorer judges beyond the title head (BODY, TEASER)."""
        return tuple(kind for kind, head in ((BODY, self._body), (TEASER, self._teaser)) if head is not None)

    # -- articles -------------------------------------------------------------------------------------
    def _article_key(self, article: Article) -> str:
        digest = hashlib.sha1(f"{article.headline}\0{article.text_for_scoring()}".encode()).hexdigest()[:16]
        return f"{article.id}:{digest}"

    def _reference(self, articles: Sequence[Article]) -> list[np.ndarray]:
        """One reference vector per article for the title head: headline and whole text, each embedded once."""
        mode = self.model_config.off_topic.reference
        out = []
        for h, b, _, _ in self._article_vectors(articles):
            out.append(h if mode == "headline" else b if mode == "article" else unit(h + b))
        return out

    def _article_vectors(self, articles: Sequence[Article]) -> list[ArticleReading]:
        """(headline, whole text, sentences, reading) per article, each article embedded once and cached.

        Sentences (the body's, or the headline's and teaser's: ``reading``) are embedded only when a background
        is loaded (an empty [0, d] array and TITLE otherwise), all new articles' sentences in one length-sorted
        pass. Thread-safe: a batch scored beside another waits for an article the other is embedding rather than
        embedding it twice.
        """
        with self._articles_lock:
            return self._article_vectors_locked(articles)

    def _article_vectors_locked(self, articles: Sequence[Article]) -> list[ArticleReading]:
        todo = {}
        for a in articles:
            key = self._article_key(a)
            if key not in self._articles and key not in todo:
                todo[key] = a
        if todo:
            if len(self._articles) + len(todo) > ARTICLE_CACHE:  # bounded: a long run sees many threads
                self._articles.clear()
            keys = list(todo)
            heads = self.backbone.encode_passages([todo[k].headline or todo[k].text_for_scoring() for k in keys])
            bodies = self.backbone.encode_passages([todo[k].text_for_scoring() or todo[k].headline for k in keys])
            readings = [reading(todo[k]) if self._background is not None else (TITLE, []) for k in keys]
            sentences = [per_article for _, per_article in readings]
            flat = [s for per_article in sentences for s in per_article]
            vectors = self.backbone.encode_passages(flat) if flat else np.zeros((0, heads.shape[1]), np.float32)
            start = 0
            for k, h, b, (kind, per_article) in zip(keys, heads, bodies, readings, strict=True):
                self._articles[k] = (h, b, vectors[start : start + len(per_article)], kind)
                start += len(per_article)
        return [self._articles[self._article_key(a)] for a in articles]

    def body_inputs(
        self,
        pairs: Sequence[tuple[Comment, Article]],
        encs: Sequence[Encoded],
        toxicity_logits: np.ndarray,
        readings: Sequence[str] | None = None,
    ) -> dict[int, tuple[Encoded, ArticleVectors, float, str]]:
        """What the body (or teaser) model reads for each pair whose article it judges: the comment as off-topic
        encodes it (long comments read again up to ``comment_max_length`` tokens, without the toxicity branch),
        the article's vectors, the fused toxicity logit and the reading (BODY or TEASER). ``readings``: which
        articles to read (default: BODY, and TEASER where the scorer has the teaser model). Training calls this
        too, before the model it fits exists, so it fits what scoring sees.
        """
        if self._background is None:
            return {}
        if readings is None:  # what scoring judges; training names the reading it fits, before its model exists
            readings = self.judged_readings
        body = self.model_config.off_topic_body
        max_length = body.comment_max_length if body is not None else COMMENT_MAX_LENGTH
        vectors = self._article_vectors([a for _, a in pairs])
        chosen = [i for i, (_, _, sentences, kind) in enumerate(vectors) if len(sentences) and kind in readings]
        long = [i for i in chosen if encs[i].n_tokens >= self.backbone.max_length]
        longer = self.backbone.encode_comments(
            [(pairs[i][0].title, pairs[i][0].text) for i in long],
            self.batch_size,
            max_length=max_length,
            toxicity=False,
        )
        read = dict(zip(long, longer, strict=True))
        return {
            i: (
                read.get(i, encs[i]),
                ArticleVectors(vectors[i][1], vectors[i][2]),
                float(toxicity_logits[i]),
                vectors[i][3],
            )
            for i in chosen
        }

    def _body_off_topic(
        self, enc: Encoded, article: ArticleVectors, toxicity_logit: float, kind: str
    ) -> tuple[float, str, float | None]:
        """(off-topic, the passage the article explains least, its own score) under an article with a body, or
        under a teaser (``kind`` TEASER: the teaser model, the same form fitted on teasers)."""
        if kind == TEASER:
            body, head = self.model_config.off_topic_teaser, self._teaser
        else:
            body, head = self.model_config.off_topic_body, self._body
        background = self._background
        assert body is not None and head is not None and background is not None
        logit = float(head.logit(body_features(enc.whole, article, background, toxicity_logit))[0])
        off = float(apply_platt(logit, body.platt))
        candidates = enc.candidate_passages()
        k, relative = worst_passage([v for v, _ in candidates], article, background)
        if k < 0:
            return off, "", None
        a, b = candidates[k][1]
        return off, enc.text[a:b], round(float(apply_platt(relative, body.passage_platt)), 4)

    # -- scoring --------------------------------------------------------------------------------------
    def _features(self, enc: Encoded, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """Feature rows of the whole comment and of its candidate passages, with each passage's char span.

        The candidates are the runs of sentences, each scored as if it stood alone; a comment too short for
        runs falls back to its single sentences.
        """
        whole, per = pair_features(enc.whole, enc.body, enc.sentences, enc.n_tokens, ref, self._generic)
        proj = self._projection
        whole = np.concatenate([whole, proj @ enc.whole])
        spans = enc.sentence_spans
        if enc.passages:
            rows = np.array(
                [
                    np.concatenate([pair_features(v, v, enc.sentences[i:j], n, ref, self._generic)[0], proj @ v])
                    for i, j, v, n in enc.passages
                ]
            )
            return whole, rows, [(spans[i][0], spans[j - 1][1]) for i, j, _, _ in enc.passages]
        if len(enc.sentences):
            return whole, np.hstack([per, np.stack(enc.sentences) @ proj.T]), list(spans)
        return whole, np.zeros((0, len(whole))), []

    def _title_off_topic(
        self, enc: Encoded, ref: np.ndarray, platt: Sequence[float]
    ) -> tuple[float, str, float | None]:
        """(off-topic, the furthest-straying passage, its own score) by the title head (no article body).

        Runs of sentences: a comment whose second half wanders off shows it in the passage, scored by the same
        head as if it stood alone; max(whole, passage) as the headline cost 0.01 ROC-AUC on One Million Posts.
        """
        whole, candidates, cand_spans = self._features(enc, ref)
        off = float(apply_platt(float(self._ot.logit(whole)[0]), platt))
        if not len(candidates):
            return off, "", None
        ps = apply_platt(self._ot.logit(candidates), platt)
        k = int(np.argmax(ps))
        a, b = cand_spans[k]
        return off, enc.text[a:b], round(float(ps[k]), 4)

    def _toxic_words(self, enc: Encoded) -> tuple[str, ...]:
        """Up to three words that pushed the fused toxicity logit up most.

        Both halves speak in logit units, weighted as the fusion weighs them: the transformer's gradient x
        input (a first-order share of its logit, see Backbone.attribute) and the n-gram model's exact share
        per token. The n-grams usually name the insult itself ("Vollpfosten", "Sesselfurzern"), where the
        gradients alone often named a neighbour or the insulted group.
        """
        if enc.token_contrib is None or enc.token_offsets is None:
            return ()
        return self._words(Attribution(enc.text, enc.token_contrib, enc.token_offsets))

    def _words(self, attribution: Attribution) -> tuple[str, ...]:
        """The words of ``_toxic_words`` from one comment's token attributions."""
        contrib, offs = attribution.token_contrib, attribution.token_offsets
        if not len(contrib):
            return ()
        fusion = self.model_config.toxicity.fusion
        text = attribution.text
        spans = [m.span() for m in WORD.finditer(text) if len(m.group()) > 2 and m.group().lower() not in STOPWORDS]
        starts = [a for a, _ in spans]  # sorted, spans do not overlap: bisect keeps long comments linear
        words: dict[tuple[int, int], float] = {}
        for c, (s, e) in zip(contrib, offs, strict=False):
            k = bisect.bisect_right(starts, s) - 1  # the word holding the token's start, else the next one in it
            span = (
                spans[k]
                if k >= 0 and s < spans[k][1]
                else (spans[k + 1] if k + 1 < len(spans) and spans[k + 1][0] < e else None)
            )
            if span:
                words[span] = words.get(span, 0.0) + fusion.transformer * float(c)
        for start, end, share in self.ngrams.token_contributions(text):
            inside = [
                sp for sp in spans[bisect.bisect_left(starts, start) : bisect.bisect_left(starts, end)] if sp[1] <= end
            ]
            for span in inside:
                words[span] = words.get(span, 0.0) + fusion.ngram * share / len(inside)
        if not words:
            return ()
        top = max(words.values())
        ranked = sorted(((v, sp) for sp, v in words.items() if v > 0 and v >= 0.3 * top), reverse=True)
        return tuple(dict.fromkeys(text[a:b] for _, (a, b) in ranked[:3]))

    def toxic_words_of(self, pairs: Sequence[tuple[Comment, Article]]) -> list[tuple[str, ...]]:
        """The words that drove each comment's toxicity, for comments scored without them (``words_pending``)."""
        items = [(c.title, c.text) for c, _ in pairs]
        return [self._words(a) for a in self.backbone.attribute_comments(items)]

    @property
    def words_edge(self) -> float:
        """The toxicity from which a comment's words are computed while scoring (see ``words_from``)."""
        return max(self.model_config.toxicity.threshold, self.words_from)

    @property
    def words_while_scoring(self) -> bool:
        """Whether scoring computes any words now (a band between ``words_edge`` and ``words_until``), as
        `flag --words-now` asks; by default the desk computes them when a person opens a comment."""
        return self.words_edge < self.words_until

    def explains(self, toxicity: float) -> bool:
        """Whether scoring computes this comment's words now: over the threshold and in the band a person reads."""
        return self.words_edge <= toxicity < self.words_until

    def encode(
        self,
        pairs: Sequence[tuple[Comment, Article]],
        *,
        off_topic: bool = True,
        read_further: Sequence[bool] | None = None,
    ) -> tuple[list[Encoded], np.ndarray]:
        """One encoder pass per comment, and each comment's fused toxicity logit.

        Comments that ``explains`` picks get the backward pass that names their words. ``off_topic=False``
        skips the e5 top (the encodings then carry no vectors); so does ``read_further`` for the comments the
        body model reads again, further, when this pass cuts them (``Backbone.encode_comments``).
        """
        fusion = self.model_config.toxicity.fusion
        items = [(c.title, c.text) for c, _ in pairs]
        lexical = self.ngrams.logits([comment_text(t, b) for t, b in items])

        def fused(i: int, transformer_logit: float) -> float:
            return fusion.transformer * transformer_logit + fusion.ngram * float(lexical[i]) + fusion.bias

        encs = self.backbone.encode_comments(
            items,
            self.batch_size,
            explain=lambda i, logit: self.explains(float(sigmoid(fused(i, logit)))),
            off_topic=off_topic,
            read_further=read_further,
        )
        logits = []
        for i, enc in enumerate(encs):
            assert enc.tox_logits is not None  # the shipped scorer always has the toxicity top
            enc.ngram_logit = float(lexical[i])
            logits.append(fused(i, float(enc.tox_logits[0])))
        return encs, np.array(logits, np.float64)

    def house_probabilities(self, encs: Sequence[Encoded]) -> np.ndarray | None:
        """P(this house rejects it) per comment (``encode``'s encodings), by the model's house head (None when it
        has none)."""
        house = self.model_config.house
        if house is None or self._house is None:
            return None
        return sigmoid(self._house.logit(house_features(house.features, encs, self.labels)))

    def _toxicity(self, enc: Encoded, fused_logit: float) -> dict[str, Any]:
        """The toxicity fields of a comment's ``Scores``: the fused probability, fine labels and words."""
        logits = enc.tox_logits
        assert logits is not None
        toxicity = float(sigmoid(fused_logit))
        # Fine heads are uncalibrated (the threat head learnt from tweets with a 1:2 class ratio), so each
        # is reported as P(toxic) x its own conditional score: never above toxicity, zero when benign.
        labels = {
            name: round(toxicity * float(sigmoid(v)), 4) for name, v in zip(self.labels[1:], logits[1:], strict=True)
        }
        explained = self.explains(toxicity)
        return {
            "toxicity": round(toxicity, 4),
            "labels": labels,
            "toxic_words": self._toxic_words(enc) if explained else (),
            "words_pending": toxicity >= self.model_config.toxicity.threshold and not explained,
            "model_version": self.model_version,
        }

    @torch.inference_mode()
    def score_toxicity(self, comments: Sequence[Comment]) -> list[Scores]:
        """Toxicity and its labels alone, for comments judged against no article (the live API's pre-check).

        The e5 top, a third of the encoder, is skipped; off-topic is not judged (None) and no passage is named.
        Toxicity is the same number ``score`` gives: the branches share nothing after the bottom layers.
        """
        if not comments:
            return []
        pairs = [(c, Article(id=c.article_id, headline="")) for c in comments]
        house = self.model_config.house
        encs, fused_logits = self.encode(pairs, off_topic=house is not None and house.reads_e5)
        houses = self.house_probabilities(encs)
        out = []
        for i, enc in enumerate(encs):
            fields = self._toxicity(enc, fused_logits[i])
            if houses is not None:
                fields["labels"][HOUSE_LABEL] = round(float(houses[i]), 4)
            out.append(Scores(off_topic=None, **fields))
        return_freed_memory()
        return out

    def score_batches(self, batches: Iterable[Pairs]) -> Iterator[tuple[Pairs, list[Scores]]]:
        """Each batch with its scores, in the order given, ``batch_workers`` batches scored side by side, each in
        a thread on its share of the cores (`flag`, `score` and `bench` score the queue through this).

        Why: on 2 cores, two batches at once, each on one core, scored 31-43 % more comments/s in bf16 (AMX)
        and 9-12 % more in fp32 (AVX2) than one batch at a time on both: small matmuls, attention, GELU and the
        Python around them (tokens, n-grams, features) scale poorly over threads and not at all over batches.
        Batches are taken from ``batches`` in the caller's thread (it may read them from its database) only as
        fast as they are scored. The scores are those ``score`` gives on a worker's share of the cores (bf16
        sums depend slightly on the thread count, as they do between machines).
        """
        # Words while scoring (flag --words-now) are backward passes: two at once peaked at 1.07 GB, so one batch
        # at a time then (0.96 GB).
        if self.batch_workers < 2 or self.words_while_scoring:
            for pairs in batches:
                yield pairs, self.score(pairs)
            return
        threads = max(1, torch.get_num_threads() // self.batch_workers)
        pool = ThreadPoolExecutor(self.batch_workers, "moderator-score", torch.set_num_threads, (threads,))
        in_flight: deque[tuple[Pairs, Future[list[Scores]]]] = deque()
        try:
            for pairs in batches:
                in_flight.append((pairs, pool.submit(self.score, pairs)))
                if len(in_flight) >= self.batch_workers:
                    done, scores = in_flight.popleft()
                    yield done, scores.result()
            while in_flight:
                done, scores = in_flight.popleft()
                yield done, scores.result()
        finally:  # an interrupted run waits for the batch in hand, drops the rest
            pool.shutdown(wait=True, cancel_futures=True)

    def reads_further(self, pairs: Sequence[tuple[Comment, Article]]) -> list[bool] | None:
        """Per pair, whether the body (or teaser) model judges it and would read a cut comment again up to its
        own, longer cut (``body_inputs``), so the first pass need not run the e5 top over the cut comment. None
        where every comment's first-pass vectors are read anyway (no body model, or a house head that reads e5
        columns).
        """
        body = self.model_config.off_topic_body
        house = self.model_config.house
        if self._body is None or self._background is None or body is None:
            return None
        if body.comment_max_length <= self.backbone.max_length:
            return None
        if house is not None and house.reads_e5:
            return None
        judged = self.judged_readings
        return [len(s) > 0 and kind in judged for _, _, s, kind in self._article_vectors([a for _, a in pairs])]

    @torch.inference_mode()
    def score(self, pairs: Sequence[tuple[Comment, Article]]) -> list[Scores]:
        if not pairs:
            return []
        encs, fused_logits = self.encode(pairs, read_further=self.reads_further(pairs))
        body_inputs = self.body_inputs(pairs, encs, fused_logits) if self._body is not None else {}
        refs = self._reference([a for _, a in pairs])
        platt = self.model_config.off_topic.platt
        house = self.house_probabilities(encs)
        out = []
        for i, (enc, ref) in enumerate(zip(encs, refs, strict=True)):
            fields = self._toxicity(enc, fused_logits[i])
            if house is not None:  # the house's own line, learnt from its decisions
                fields["labels"][HOUSE_LABEL] = round(float(house[i]), 4)
            if i in body_inputs:  # the article has a body or a teaser: judge the comment against its sentences
                off, passage, passage_score = self._body_off_topic(*body_inputs[i])
            else:
                off, passage, passage_score = self._title_off_topic(enc, ref, platt)
            out.append(
                Scores(off_topic=round(off, 4), off_topic_passage=passage, passage_off_topic=passage_score, **fields)
            )
        return_freed_memory()  # the batch's activations are freed: give their pages back (peak RSS, long runs)
        return out


def house_features(names: Sequence[str], encs: Sequence[Encoded], labels: Sequence[str]) -> np.ndarray:
    """The rows a house head reads (artifacts.HouseHead): the toxicity heads' logits by label, ``ngram`` and
    ``e5_<k>`` columns. One definition for training (`train --from-decisions`) and scoring: the same columns.
    """
    columns = []
    reads_e5 = reads_e5_columns(names)  # else encodings may carry no vectors
    whole = np.stack([e.whole for e in encs]) if encs and reads_e5 else np.zeros((len(encs), 0))
    for name in names:
        if name in labels:
            k = list(labels).index(name)
            columns.append(np.array([float(e.tox_logits[k]) if e.tox_logits is not None else 0.0 for e in encs]))
        elif name == "ngram":
            columns.append(np.array([e.ngram_logit if e.ngram_logit is not None else 0.0 for e in encs], np.float64))
        elif name.startswith(E5_COLUMN):
            columns.append(whole[:, int(name.removeprefix(E5_COLUMN))].astype(np.float64))
        else:
            raise ValueError(f"unknown house head feature {name!r}")
    return np.stack(columns, 1)
