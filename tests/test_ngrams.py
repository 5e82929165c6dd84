"""The lexical half of the toxicity score: hashed n-gram features and their logistic regression."""

from __future__ import annotations

import numpy as np

from moderator.scoring.ngrams import BUCKETS, NgramModel, hashed_counts
from moderator.training.calibrate import fit_ngram_model


def test_features_are_stable_across_processes_and_split_into_two_blocks() -> None:
    ids, tf = hashed_counts("Du Idiot du")
    # crc32, not Python's salted hash(): the same text hashes the same in every process
    assert ids.tolist() == hashed_counts("Du Idiot du")[0].tolist() == hashed_counts("du idiot DU")[0].tolist()
    chars, words = ids[ids < BUCKETS // 2], ids[ids >= BUCKETS // 2]
    # " du " gives 3+2+1 char n-grams twice, " idiot " 6+5+4+3; words: du, idiot, and bigrams "du idiot", "idiot du"
    assert len(chars) == len({*hashed_counts("du")[0].tolist(), *hashed_counts("idiot")[0].tolist()} - {*words})
    assert len(words) == 4
    repeated = hashed_counts("du du")[1]
    assert np.allclose(sorted(set(repeated.tolist())), [1.0, 1 + np.log(2)])  # sublinear tf: 1 + log(count)


def test_punctuation_and_emoji_stay_inside_words() -> None:
    plain, emoji = hashed_counts("Idiot")[0], hashed_counts("Idiot🤮")[0]
    assert set(emoji.tolist()) - set(plain.tolist())  # the emoji adds character n-grams of its own


def test_fit_learns_the_marked_words_and_survives_a_save(tmp_path) -> None:
    texts = [
        "du bist ein Vollidiot",
        "Vollidiot!!",
        "was für Idioten hier",
        "Idioten überall",
        "ein guter Artikel",
        "danke für den Artikel",
        "das Wetter ist schön",
        "gute Analyse, danke",
    ] * 3
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0] * 3, float)
    model = fit_ngram_model(texts, y, c=10.0)
    scores = model.logits(["So ein Vollidiot", "Danke, guter Artikel", "Idioten"])
    assert scores[0] > 0 > scores[1] and scores[2] > scores[1]
    model.save(tmp_path)
    again = NgramModel.load(tmp_path)
    assert np.allclose(again.logits(texts), model.logits(texts), atol=5e-3)
    assert (tmp_path / "ngrams.safetensors").stat().st_size < 5_000_000


def test_token_shares_add_up_to_the_logit_and_follow_the_text() -> None:
    texts = ["du Vollidiot", "ein guter Artikel", "danke"] * 4
    model = fit_ngram_model(texts, np.array([1, 0, 0] * 4, float), c=10.0)
    text = "So\u00a0ein  Vollidiot!!\x1fecht\n🤮"  # no-break space, unit separator, emoji: str.split() whitespace
    shares = model.token_contributions(text)
    assert [text[a:b] for a, b, _ in shares] == ["So", "ein", "Vollidiot!!", "echt", "🤮"]
    assert np.isclose(sum(x for _, _, x in shares) + model.bias, model.logits([text])[0], atol=1e-5)
    assert max(shares, key=lambda s: s[2])[:2] == (text.index("Vollidiot"), text.index("Vollidiot") + 11)


def test_only_the_head_of_a_huge_comment_is_read() -> None:
    from moderator.scoring.ngrams import MAX_CHARS

    model = fit_ngram_model(["du Vollidiot", "guter Artikel"] * 3, np.array([1, 0] * 3, float), c=10.0)
    head = "guter Artikel " * (MAX_CHARS // 14)
    huge = head + "du Vollidiot " * 50_000  # a pasted book must not stall a scoring batch
    assert model.logits([huge])[0] == model.logits([huge[:MAX_CHARS]])[0]
    assert model.token_contributions(huge) == model.token_contributions(huge[:MAX_CHARS])
