"""Micro-batching: requests that arrive together are scored together, in one call of the scorer.

A transformer scores 16 comments in far less than 16 times one comment's time, so under load the server
waits a few milliseconds after the first request for others (up to ``max_batch``) and scores them as one batch
in the scoring thread. One worker means one scoring call at a time: the model is never run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from moderator.records import Article, Comment, Scores

Pair = tuple[Comment, Article | None]  # None: toxicity alone (no article to judge off-topic against)
_Pending = tuple[Pair, "asyncio.Future[Scores]"]


class MicroBatcher:
    """Collects pending (comment, article) pairs and scores each batch once, off the event loop."""

    def __init__(
        self,
        score: Callable[[Sequence[tuple[Comment, Article]]], list[Scores]],
        *,
        max_batch: int = 32,
        max_wait_s: float = 0.005,
        words: Callable[[Sequence[tuple[Comment, Article]]], list[tuple[str, ...]]] | None = None,
        score_toxicity: Callable[[Sequence[Comment]], list[Scores]] | None = None,
    ) -> None:
        self._score = score
        self._words = words
        self._score_toxicity = score_toxicity
        self.max_batch = max(1, max_batch)
        self.max_wait_s = max(0.0, max_wait_s)
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="moderator-score")
        self.batches = 0  # how many scorer calls, and the largest batch: /healthz shows them
        self.largest_batch = 0

    def start(self) -> None:
        """Start the worker on the running loop (the app's startup)."""
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the worker; requests still waiting fail (the server is shutting down)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._queue is not None and not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(RuntimeError("server shutting down"))
        self._executor.shutdown(wait=True)

    @property
    def scores_toxicity_alone(self) -> bool:
        """Whether the scorer can skip the off-topic branch for comments without an article."""
        return self._score_toxicity is not None

    async def score(self, comment: Comment, article: Article | None) -> Scores:
        """This pair's scores, computed in a batch with whatever else arrived meanwhile.

        ``article`` None asks for toxicity alone (``scores_toxicity_alone`` scorers only): a third less work.
        """
        if article is None and self._score_toxicity is None:
            raise ValueError("this scorer needs an article for every comment")
        if self._queue is None:
            raise RuntimeError("the batcher is not started")
        future: asyncio.Future[Scores] = asyncio.get_running_loop().create_future()
        await self._queue.put(((comment, article), future))
        return await future

    async def words(self, comment: Comment, article: Article) -> tuple[str, ...] | None:
        """The words that drove this comment's toxicity (a backward pass), on the scoring thread; None when the
        scorer names no words. Scoring leaves them out: most callers (Coral's pre-check) never read them."""
        if self._words is None:
            return None
        words = self._words
        found = await asyncio.get_running_loop().run_in_executor(self._executor, lambda: words([(comment, article)]))
        return found[0]

    async def _collect(self, queue: asyncio.Queue[_Pending]) -> list[_Pending]:
        """The first pending pair, and others arriving within ``max_wait_s`` of it, up to ``max_batch``."""
        batch = [await queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while len(batch) < self.max_batch:
            if not queue.empty():
                batch.append(queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    def _score_batch(self, pairs: list[Pair]) -> list[Scores]:
        """One batch's scores in input order: toxicity alone for pairs without an article, the rest in full."""
        whole = [(i, (comment, article)) for i, (comment, article) in enumerate(pairs) if article is not None]
        alone = [i for i, (_, article) in enumerate(pairs) if article is None]
        results: list[Scores | None] = [None] * len(pairs)
        if whole:
            for (i, _), scores in zip(whole, self._score([pair for _, pair in whole]), strict=True):
                results[i] = scores
        if alone:
            assert self._score_toxicity is not None
            for i, scores in zip(alone, self._score_toxicity([pairs[i][0] for i in alone]), strict=True):
                results[i] = scores
        return results  # type: ignore[return-value]

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [item for item in await self._collect(self._queue) if not item[1].done()]  # done: client left
            if not batch:
                continue
            self.batches += 1
            self.largest_batch = max(self.largest_batch, len(batch))
            try:
                results = await loop.run_in_executor(self._executor, self._score_batch, [pair for pair, _ in batch])
            except Exception as exc:  # the scorer failed: every request of the batch hears it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
