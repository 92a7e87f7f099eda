"""Annotation artifacts: what the hypothesis alone gives away (Gururangan et al. 2018; Poliak et al. 2018).

``hypothesis_only`` fits a scikit-learn classifier on the training pool's hypotheses (word and bigram counts,
logistic regression) and predicts the test hypotheses: the test items it gets right are the "easy" subset, the
ones it gets wrong the "hard" subset, on which a model cannot score by the hypothesis's wording alone.
``cue_words`` ranks hypothesis words by pointwise mutual information with each label on the same training pool.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from nli.compare.slices import tokenize
from nli.core.labels import LABELS


def hypothesis_only(train_hypotheses: Sequence[str], train_labels: Sequence[str], test_hypotheses: Sequence[str]):
    """Predicted labels (strings) for ``test_hypotheses`` from a classifier that never sees a premise."""
    # lbfgs on a fixed feature order is deterministic: the same pool gives the same hard subset on every run.
    model = make_pipeline(
        CountVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2)),
        LogisticRegression(max_iter=2000),
    )
    # One BLAS thread: L-BFGS on this small problem runs no faster on more, and on a many-core GPU host the default
    # (one thread per core) made the fit several times slower; it also keeps the fit the same on every machine
    with threadpool_limits(limits=1):
        model.fit(list(train_hypotheses), list(train_labels))
    return model.predict(list(test_hypotheses))


def cue_words(
    hypotheses: Sequence[str], labels: Sequence[str], per_label: int, min_count: int
) -> dict[str, tuple[str, ...]]:
    """Per label, the ``per_label`` hypothesis words of highest PMI(word, label) = log p(label | word) / p(label).

    Counts are per hypothesis (a word counts once per pair); words in fewer than ``min_count`` hypotheses are left
    out, since PMI favours rare words; only words with positive PMI qualify; ties go alphabetically.
    """
    docs = [set(tokenize(h)) for h in hypotheses]
    label_n = Counter(labels)
    word_n: Counter[str] = Counter()
    joint: Counter[tuple[str, str]] = Counter()
    for words, label in zip(docs, labels, strict=True):
        word_n.update(words)
        joint.update((w, label) for w in words)
    n = len(docs)
    cues = {}
    for label in LABELS:
        if not label_n[label]:
            cues[label] = ()
            continue
        scored = [
            (math.log((joint[w, label] / count) / (label_n[label] / n)), w)
            for w, count in word_n.items()
            if count >= min_count and joint[w, label]
        ]
        ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        cues[label] = tuple(w for _, w in ranked[:per_label])
    return cues


def subsets(gold: Sequence[str], hypothesis_only_predicted: Sequence[str]) -> dict[str, np.ndarray]:
    """Boolean masks of the test rows: ``hard`` where the hypothesis-only classifier is wrong, ``easy`` where right."""
    easy = np.asarray(gold) == np.asarray(hypothesis_only_predicted)
    return {"hard": ~easy, "easy": easy}
