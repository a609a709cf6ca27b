"""A seeded, template-based natural-language-inference data set (SYNTHETIC).

No real NLI corpus can be installed offline, so the benchmark generates one. Every pair is
built from a small hand-written lexicon of *lexical relations*, in the spirit of

- Breaking NLI (Glockner, Shwartz & Goldberg 2018): one word of the premise is replaced by a
  hypernym (entailment), a hyponym (neutral), a co-hyponym or an antonym (contradiction);
- HANS (McCoy, Pavlick & Linzen 2019): hypotheses that reuse every premise word but swap
  subject and object (not entailed), next to passives of the same sentence (entailed), so
  word overlap is no cue;
- SNLI's annotation convention (Bowman et al. 2015): premise and hypothesis describe the
  same scene, so "the poodle" and "the beagle" cannot both be it (contradiction).

Each label is produced by several constructions whose cue words overlap across labels
(negation occurs in all three classes; hypernyms, antonyms and added modifiers in at least
two), so no single word decides the label. The generator is deterministic for a seed
(``numpy.random.Generator``; no set iteration, no hashing), classes are exactly balanced
and pairs are unique.

Example pairs::

    The poodle is running in the garden.   The dog is running in the garden.    entailment
    The lawyer helped the doctor.           The doctor helped the lawyer.        neutral
    The cup is not full.                    The cup is empty.                    neutral
    The door is not open.                   The door is closed.                  entailment
    A woman is playing a violin.            A woman is playing a guitar.         contradiction

The lexicon is in :mod:`benchmark.data.nli_lexicon`, the scenes and the constructions that
make each label in :mod:`benchmark.data.nli_scenes`.
"""

from __future__ import annotations

import numpy as np

from benchmark.data.nli_scenes import CONSTRUCTIONS, _Gen

#: Bump when the lexicon or the constructions change (it is part of the data fingerprint).
GENERATOR_VERSION = "1"
LABELS: tuple[str, str, str] = ("entailment", "neutral", "contradiction")


def generate(n: int = 6000, seed: int = 0) -> list[tuple[str, str, str]]:
    """``n`` unique (premise, hypothesis, label) triples, balanced over :data:`LABELS`, shuffled.

    ``n`` must be a multiple of 3. Deterministic for a given ``seed`` and
    :data:`GENERATOR_VERSION`.
    """
    if n % len(LABELS):
        raise ValueError(f"n={n} must be a multiple of {len(LABELS)} for balanced classes.")
    g = _Gen(np.random.default_rng(seed))
    per_class = n // len(LABELS)
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str, str]] = []
    for label in LABELS:
        constructions = CONSTRUCTIONS[label]
        count, attempts = 0, 0
        while count < per_class:
            attempts += 1
            if attempts > 200 * per_class:
                raise RuntimeError(
                    f"could only generate {count} unique {label} pairs; enlarge the lexicon."
                )
            pair = constructions[int(g.rng.integers(len(constructions)))](g)
            if pair is None or pair[0] == pair[1] or pair in seen:
                continue
            seen.add(pair)
            out.append((pair[0], pair[1], label))
            count += 1
    order = g.rng.permutation(len(out))
    return [out[i] for i in order]
