"""`train --from-decisions`: a new model directory with a house head, its own version and card."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from moderator.cli import main
from moderator.config import DEFAULT_MODEL_NAME, default_models_dir
from moderator.desk import Desk
from moderator.policy import risk_score
from moderator.records import Article, Comment, Scores
from moderator.scoring.artifacts import HouseHead, ModelConfig
from moderator.store import Queue, open_db
from tests.fixtures import FixedClock

SHIPPED = default_models_dir() / DEFAULT_MODEL_NAME

CLEAN = [
    "Die Genehmigungsverfahren für Windräder dauern wirklich zu lange.",
    "Gute Analyse, danke für den Artikel.",
    "Ich sehe das ähnlich, die Kommunen brauchen mehr Personal.",
    "Wer bezahlt am Ende die neuen Stromtrassen?",
    "Interessant, wie unterschiedlich die Länder das regeln.",
    "In Bayern ist der Abstand zur Bebauung viel größer.",
    "Mehr Bürgerbeteiligung würde die Akzeptanz erhöhen.",
    "Die Zahlen im Text stimmen mit dem Bericht überein.",
    "Ein sachlicher Beitrag, gerne mehr davon.",
    "Offshore-Wind ist teurer, aber verlässlicher.",
]
REJECTED = [
    "Ihr seid doch alle hirnlose Idioten.",
    "Halt die Klappe, du Vollpfosten.",
    "Solche Politiker gehören eingesperrt, Abschaum.",
    "Was für ein dummes Geschwätz, schämt euch.",
    "Du bist einfach nur ein widerlicher Troll.",
    "Diese Journalisten sind gekaufte Lügner.",
    "Verpiss dich aus dem Forum.",
    "Dreckspack, alle miteinander.",
    "So ein Schwachsinn, du Depp.",
    "Idiotischer kann man es nicht schreiben.",
]


def test_house_head_round_trips_in_config() -> None:
    config = ModelConfig.read(SHIPPED)
    head = HouseHead(["toxic", "ngram"], [0.0, 0.0], [1.0, 1.0], [0.5, 0.25], -0.1, 0.4, 70)
    changed = replace(config, house=head)
    assert ModelConfig.from_json(json.loads(json.dumps(changed.to_json()))) == changed
    assert "house" not in config.to_json()  # shipped configs stay byte for byte


@pytest.mark.model
def test_train_from_decisions_writes_a_new_model(tmp_path: Path, clock: FixedClock) -> None:
    queue = Queue(open_db(tmp_path / "q.db"), clock=clock)
    texts = [t for pair in zip(CLEAN, REJECTED, strict=True) for t in pair]  # alternate: both kinds in every slice
    comments = [Comment(id=f"k{i:02d}", article_id="a1", text=t) for i, t in enumerate(texts)]
    queue.add([Article(id="a1", headline="Windkraft: schnellere Genehmigungen")], comments)
    scores = Scores(0.5, 0.1, "moderator-de-v1+e5s-1571fc98+heads-9f6c405c+fp32")
    queue.save_scores([(c.id, scores, risk_score(scores)) for c in comments])
    for i, c in enumerate(comments):
        clock.advance(60)
        Desk(queue, "alice" if i % 3 else "client:coral").decide(c.id, "reject" if i % 2 else "approve")
    out = tmp_path / "models" / "moderator-de-test"
    args = ["train", "--from-decisions", "--db", str(tmp_path / "q.db"), "--out", str(out), "--model", str(SHIPPED)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["split"] == {**report["split"], "train": 14, "held_out": 6}
    assert report["head"]["kind"] == "fusion"  # 7 of each kind in the older part: too few for the embedding
    new = ModelConfig.read(out)
    assert new.name == "moderator-de-test" and new.model_version.startswith("moderator-de-test+e5s-")
    assert new.house is not None and new.house.decisions == 14
    assert new.toxicity == ModelConfig.read(SHIPPED).toxicity  # the general toxicity is left as it is
    assert "20 standing human decisions" in (out / "MODEL_CARD.md").read_text()
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and "already exists" in refused.stderr

    from moderator.scoring.transformer import TransformerScorer

    scorer = TransformerScorer.load(out)
    assert scorer.model_version.startswith("moderator-de-test+e5s-1571fc98+heads-")
    (scored,) = scorer.score([(comments[1], Article(id="a1", headline="Windkraft"))])
    assert scored.model_version == scorer.model_version and 0.0 <= scored.labels["house"] <= 1.0
