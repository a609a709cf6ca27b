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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

#: Bump when the lexicon or the constructions change (it is part of the data fingerprint).
GENERATOR_VERSION = "1"
LABELS: tuple[str, str, str] = ("entailment", "neutral", "contradiction")

# ---------------------------------------------------------------------------------------
# Lexicon
# ---------------------------------------------------------------------------------------
#: word -> its hypernym (one level up); chains give several levels (poodle -> dog -> animal).
PARENT: dict[str, str] = {
    **{
        w: "dog"
        for w in (
            "poodle",
            "beagle",
            "terrier",
            "bulldog",
            "collie",
            "dachshund",
            "greyhound",
            "labrador",
        )
    },
    **{
        w: "bird"
        for w in ("sparrow", "robin", "eagle", "pigeon", "parrot", "owl", "crow", "seagull")
    },
    "dog": "animal",
    "bird": "animal",
    "man": "person",
    "woman": "person",
    "boy": "child",
    "girl": "child",
    "child": "person",
    **{w: "musician" for w in ("violinist", "pianist", "guitarist", "drummer", "cellist")},
    "musician": "person",
    **{w: "instrument" for w in ("violin", "guitar", "cello", "flute", "trumpet", "drum", "harp")},
    **{w: "fruit" for w in ("apple", "banana", "pear", "orange", "mango", "peach", "plum")},
    **{w: "vehicle" for w in ("car", "truck", "bus", "van", "tractor", "motorcycle")},
    **{w: "tool" for w in ("hammer", "wrench", "saw", "shovel", "drill")},
    **{w: "flower" for w in ("rose", "tulip", "daisy", "lily", "sunflower", "orchid")},
}
#: Hypernyms whose children are mutually exclusive (a poodle is not a beagle; in SNLI a man
#: is not a woman). Musicians are not: a violinist may also be a pianist.
EXCLUSIVE_PARENTS: tuple[str, ...] = (
    "dog",
    "bird",
    "child",
    "instrument",
    "fruit",
    "vehicle",
    "tool",
    "flower",
)
#: Exclusive pairs beyond EXCLUSIVE_PARENTS (SNLI: a man is not a woman, nor a boy).
EXTRA_EXCLUSIVE: tuple[tuple[str, str], ...] = (
    ("man", "woman"),
    ("man", "boy"),
    ("man", "girl"),
    ("woman", "boy"),
    ("woman", "girl"),
)

AGENT_LEAVES: dict[str, tuple[str, ...]] = {
    "dog": (
        "poodle",
        "beagle",
        "terrier",
        "bulldog",
        "collie",
        "dachshund",
        "greyhound",
        "labrador",
    ),
    "bird": ("sparrow", "robin", "eagle", "pigeon", "parrot", "owl", "crow", "seagull"),
    "person": (
        "man",
        "woman",
        "boy",
        "girl",
        "violinist",
        "pianist",
        "guitarist",
        "drummer",
        "cellist",
    ),
}
ACTIONS: dict[str, tuple[str, ...]] = {
    "dog": (
        "running",
        "sleeping",
        "barking",
        "sitting",
        "swimming",
        "jumping",
        "eating",
        "playing",
    ),
    "bird": ("flying", "sleeping", "singing", "eating", "sitting"),
    "person": (
        "running",
        "sleeping",
        "sitting",
        "standing",
        "dancing",
        "singing",
        "reading",
        "eating",
        "swimming",
        "laughing",
        "crying",
        "walking",
        "cooking",
        "talking",
    ),
}
#: Sets of actions that cannot happen at once (every pair within a set is exclusive).
EXCLUSIVE_ACTIONS: tuple[tuple[str, ...], ...] = (
    ("running", "walking", "swimming", "flying", "sitting", "standing"),
    ("sitting", "dancing"),
    ("sitting", "jumping"),
    ("swimming", "dancing"),
    ("laughing", "crying"),
    ("singing", "talking"),
    *(
        ("sleeping", a)
        for a in (
            "running",
            "walking",
            "swimming",
            "flying",
            "dancing",
            "jumping",
            "barking",
            "singing",
            "reading",
            "cooking",
            "talking",
            "eating",
            "laughing",
            "crying",
            "playing",
        )
    ),
)
#: Pairs of actions that can happen at once (neither implies the other: neutral).
COMPATIBLE_ACTIONS: tuple[tuple[str, str], ...] = (
    ("sitting", "reading"),
    ("sitting", "eating"),
    ("sitting", "singing"),
    ("sitting", "laughing"),
    ("sitting", "talking"),
    ("sitting", "crying"),
    ("standing", "talking"),
    ("standing", "eating"),
    ("standing", "reading"),
    ("standing", "singing"),
    ("standing", "cooking"),
    ("walking", "talking"),
    ("walking", "singing"),
    ("walking", "laughing"),
    ("running", "laughing"),
    ("dancing", "singing"),
    ("dancing", "laughing"),
    ("swimming", "laughing"),
    ("running", "barking"),
    ("sitting", "barking"),
    ("playing", "barking"),
    ("jumping", "barking"),
    ("flying", "singing"),
    ("eating", "talking"),
    ("cooking", "singing"),
    ("cooking", "talking"),
    ("running", "playing"),
    ("jumping", "playing"),
)
#: Transitive frames for people: object hypernym -> verbs.
OBJECT_VERBS: dict[str, tuple[str, ...]] = {
    "instrument": ("playing", "holding", "carrying", "tuning"),
    "fruit": ("eating", "holding", "peeling", "buying", "washing"),
    "vehicle": ("driving", "washing", "repairing", "painting"),
    "tool": ("holding", "using", "carrying", "buying"),
    "flower": ("holding", "planting", "smelling", "buying", "watering"),
}
OBJECT_LEAVES: dict[str, tuple[str, ...]] = {
    cat: tuple(w for w, p in PARENT.items() if p == cat) for cat in OBJECT_VERBS
}
#: Attributive adjectives per agent class; each antonym pair / colour set is exclusive.
ADJECTIVES: dict[str, tuple[str, ...]] = {
    "dog": (
        "small",
        "large",
        "little",
        "big",
        "brown",
        "black",
        "white",
        "gray",
        "young",
        "old",
        "wet",
        "hungry",
        "muddy",
        "sleepy",
    ),
    "bird": (
        "small",
        "large",
        "little",
        "big",
        "brown",
        "black",
        "white",
        "gray",
        "young",
        "hungry",
    ),
    "person": ("young", "old", "tall", "short", "happy", "sad", "tired", "hungry", "smiling"),
}
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("small", "large"),
    ("small", "big"),
    ("little", "large"),
    ("little", "big"),
    ("young", "old"),
    ("tall", "short"),
    ("happy", "sad"),
    ("quickly", "slowly"),
    ("loudly", "quietly"),
)
COLOURS: tuple[str, ...] = ("brown", "black", "white", "gray", "red", "blue", "green", "yellow")
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("big", "large"),
    ("small", "little"),
    ("quickly", "fast"),
    ("quietly", "softly"),
    ("talking", "speaking"),
    ("sad", "unhappy"),
)
ADVERBS: dict[str, tuple[str, str]] = {
    **{
        a: ("quickly", "slowly")
        for a in ("running", "walking", "swimming", "flying", "dancing", "driving", "eating")
    },
    **{
        a: ("loudly", "quietly")
        for a in ("singing", "talking", "barking", "laughing", "playing", "crying")
    },
}
#: Places a scene cannot be in at once.
LOCATIONS: tuple[str, ...] = (
    "in the kitchen",
    "on the beach",
    "in the garden",
    "at the airport",
    "on a bus",
    "in a library",
    "in a museum",
    "in a tent",
)
#: Things with states: thing -> state dimensions (antonym pairs); colours may be added.
STATES: dict[str, tuple[tuple[str, str], ...]] = {
    "door": (("open", "closed"),),
    "window": (("open", "closed"), ("clean", "dirty")),
    "cup": (("empty", "full"), ("hot", "cold")),
    "glass": (("empty", "full"), ("clean", "dirty")),
    "road": (("wet", "dry"), ("busy", "quiet")),
    "street": (("busy", "quiet"), ("wet", "dry")),
    "room": (("dark", "bright"), ("clean", "dirty"), ("warm", "cold")),
    "kettle": (("hot", "cold"), ("empty", "full")),
    "lamp": (("on", "off"), ("old", "new")),
    "towel": (("wet", "dry"), ("clean", "dirty")),
    "box": (("open", "closed"), ("heavy", "light")),
    "bottle": (("empty", "full"), ("open", "closed")),
    "shirt": (("clean", "dirty"), ("wet", "dry")),
}
#: Antonym pairs with no middle ground: "not open" entails "closed" ("not full" does not
#: entail "empty").
COMPLEMENTARY: tuple[tuple[str, str], ...] = (
    ("open", "closed"),
    ("on", "off"),
    ("wet", "dry"),
    ("clean", "dirty"),
)
#: People and transitive verbs (past, participle, base) for HANS-style sentences.
ROLES: tuple[str, ...] = (
    "doctor",
    "lawyer",
    "teacher",
    "student",
    "artist",
    "banker",
    "senator",
    "judge",
    "actor",
    "tourist",
    "manager",
    "secretary",
    "author",
    "athlete",
    "scientist",
    "professor",
    "farmer",
    "chef",
    "pilot",
    "nurse",
)
VERBS: tuple[tuple[str, str, str], ...] = (
    ("saw", "seen", "see"),
    ("called", "called", "call"),
    ("helped", "helped", "help"),
    ("followed", "followed", "follow"),
    ("paid", "paid", "pay"),
    ("thanked", "thanked", "thank"),
    ("admired", "admired", "admire"),
    ("visited", "visited", "visit"),
    ("recognized", "recognized", "recognize"),
    ("avoided", "avoided", "avoid"),
    ("greeted", "greeted", "greet"),
    ("advised", "advised", "advise"),
    ("interviewed", "interviewed", "interview"),
    ("contacted", "contacted", "contact"),
)
ROLE_ADJECTIVES: tuple[str, ...] = ("young", "old", "tall", "happy", "tired", "famous", "new")


def _exclusive(a: str, b: str, pairs: Sequence[tuple[str, ...]]) -> bool:
    return a != b and any(a in group and b in group for group in pairs)


def _antonym(word: str) -> list[str]:
    return [b if a == word else a for a, b in ANTONYMS if word in (a, b)]


def _synonyms(word: str) -> list[str]:
    return [b if a == word else a for a, b in SYNONYMS if word in (a, b)]


def _ancestors(word: str) -> list[str]:
    out: list[str] = []
    while word in PARENT:
        word = PARENT[word]
        out.append(word)
    return out


def _co_hyponyms(word: str) -> list[str]:
    parent = PARENT.get(word)
    out = [
        w for w, p in PARENT.items() if parent in EXCLUSIVE_PARENTS and p == parent and w != word
    ]
    out += [b if a == word else a for a, b in EXTRA_EXCLUSIVE if word in (a, b)]
    return out


def _indef(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


# ---------------------------------------------------------------------------------------
# Scenes and their realisation
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scene:
    """``<det> [adj] <noun> is [not] <action> [a <obj>] [adverb] [location].``"""

    cls: str  # agent class: dog | bird | person
    det: str  # "the" | "a"
    noun: str
    action: str
    adj: str | None = None
    obj: str | None = None
    adverb: str | None = None
    loc: str | None = None
    neg: bool = False

    def text(self) -> str:
        words = [self.det]
        if self.adj:
            words.append(self.adj)
        words += [self.noun, "is not" if self.neg else "is", self.action]
        if self.obj:
            words.append(_indef(self.obj))
        if self.adverb:
            words.append(self.adverb)
        if self.loc:
            words.append(self.loc)
        sentence = " ".join(words)
        if self.det == "a":
            sentence = _indef(sentence[2:])
        return sentence[0].upper() + sentence[1:] + "."


class _Gen:
    """Sampling helpers bound to one ``numpy.random.Generator``."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def pick(self, seq: Sequence[str]) -> str:
        return seq[int(self.rng.integers(len(seq)))]

    def coin(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def scene(self, *, obj: bool | None = None, mods: float = 0.35) -> Scene:
        cls = self.pick(("dog", "bird", "person", "person"))
        noun = self.pick(AGENT_LEAVES[cls])
        det = self.pick(("the", "a"))
        use_obj = cls == "person" and (self.coin(0.4) if obj is None else obj)
        if obj and cls != "person":
            cls, noun = "person", self.pick(AGENT_LEAVES["person"])
            use_obj = True
        if use_obj:
            category = self.pick(tuple(OBJECT_VERBS))
            action, thing = self.pick(OBJECT_VERBS[category]), self.pick(OBJECT_LEAVES[category])
        else:
            action, thing = self.pick(ACTIONS[cls]), None
        adverbs = ADVERBS.get(action)
        return Scene(
            cls=cls,
            det=det,
            noun=noun,
            action=action,
            obj=thing,
            adj=self.pick(ADJECTIVES[cls]) if self.coin(mods) else None,
            adverb=self.pick(adverbs)
            if adverbs and not use_obj and self.coin(mods * 0.6)
            else None,
            loc=self.pick(LOCATIONS) if self.coin(mods) else None,
        )

    def with_modifier(self, s: Scene) -> Scene:
        """``s`` with at least one modifier (adjective, adverb or location)."""
        if s.adj or s.adverb or s.loc:
            return s
        options = ["adj", "loc"] + (["adverb"] if s.action in ADVERBS and not s.obj else [])
        which = self.pick(options)
        if which == "adj":
            return replace(s, adj=self.pick(ADJECTIVES[s.cls]))
        if which == "adverb":
            return replace(s, adverb=self.pick(ADVERBS[s.action]))
        return replace(s, loc=self.pick(LOCATIONS))

    def drop_some(self, s: Scene, at_least_one: bool = False) -> Scene:
        """``s`` with some modifiers removed (at least one if ``at_least_one``)."""
        present = [m for m in ("adj", "adverb", "loc") if getattr(s, m)]
        if not present:
            return s
        drop = [m for m in present if self.coin(0.5)]
        if at_least_one and not drop:
            drop = [self.pick(present)]
        changes: dict[str, Any] = dict.fromkeys(drop)
        return replace(s, **changes)


Construction = Callable[[_Gen], tuple[str, str] | None]


# -- entailment --------------------------------------------------------------------------
def e_hypernym(g: _Gen) -> tuple[str, str] | None:
    """Subject or object replaced by a hypernym (possibly several levels up)."""
    s = g.scene()
    if s.obj and g.coin(0.5):
        h = replace(s, obj=g.pick(_ancestors(s.obj)))
    else:
        h = replace(s, noun=g.pick(_ancestors(s.noun)))
    s = replace(s, neg=g.coin(0.2))
    return s.text(), g.drop_some(replace(h, neg=s.neg)).text()


def e_drop_modifier(g: _Gen) -> tuple[str, str] | None:
    """A modifier of the premise dropped (also under negation)."""
    s = replace(g.with_modifier(g.scene(mods=0.6)), neg=g.coin(0.2))
    return s.text(), g.drop_some(s, at_least_one=True).text()


def e_synonym(g: _Gen) -> tuple[str, str] | None:
    """An adjective, adverb or verb replaced by a synonym."""
    s = g.scene(mods=0.8)
    slots = [m for m in ("adj", "adverb", "action") if getattr(s, m) and _synonyms(getattr(s, m))]
    if not slots:
        return None
    slot = g.pick(slots)
    changes: dict[str, Any] = {slot: g.pick(_synonyms(getattr(s, slot)))}
    return s.text(), replace(s, **changes).text()


def e_exclusive_negated(g: _Gen) -> tuple[str, str] | None:
    """An action implies that an exclusive action is not happening."""
    s = g.scene(obj=False)
    others = [a for a in ACTIONS[s.cls] if _exclusive(s.action, a, EXCLUSIVE_ACTIONS)]
    if not others:
        return None
    h = replace(s, action=g.pick(others), neg=True, adverb=None)
    return s.text(), g.drop_some(h).text()


def e_passive(g: _Gen) -> tuple[str, str] | None:
    """HANS passive: active <-> passive of the same event."""
    a, b = g.rng.choice(len(ROLES), size=2, replace=False)
    past, part, _ = VERBS[int(g.rng.integers(len(VERBS)))]
    adj = g.pick(ROLE_ADJECTIVES) if g.coin(0.3) else None
    subj = f"the {adj + ' ' if adj else ''}{ROLES[a]}"
    active = f"{subj} {past} the {ROLES[b]}."
    passive = f"the {ROLES[b]} was {part} by {subj}."
    p, h = (active, passive) if g.coin(0.5) else (passive, active)
    return p[0].upper() + p[1:], h[0].upper() + h[1:]


def e_state_antonym_negated(g: _Gen) -> tuple[str, str] | None:
    """``X is full`` -> ``X is not empty``; ``X is not open`` -> ``X is closed`` (complementary)."""
    thing = g.pick(tuple(STATES))
    pair = STATES[thing][int(g.rng.integers(len(STATES[thing])))]
    i = int(g.rng.integers(2))
    state, other = pair[i], pair[1 - i]
    if pair in COMPLEMENTARY and g.coin(0.5):
        return f"The {thing} is not {state}.", f"The {thing} is {other}."
    return f"The {thing} is {state}.", f"The {thing} is not {other}."


def e_state_drop(g: _Gen) -> tuple[str, str] | None:
    """A colour of a thing dropped."""
    thing = g.pick(tuple(STATES))
    state = g.pick(STATES[thing][0])
    neg = " not" if g.coin(0.2) else ""
    return f"The {g.pick(COLOURS)} {thing} is{neg} {state}.", f"The {thing} is{neg} {state}."


# -- neutral -----------------------------------------------------------------------------
def n_add_modifier(g: _Gen) -> tuple[str, str] | None:
    """A modifier added to the hypothesis (also under negation)."""
    s = replace(g.with_modifier(g.scene(mods=0.6)), neg=g.coin(0.2))
    return g.drop_some(s, at_least_one=True).text(), s.text()


def n_hyponym(g: _Gen) -> tuple[str, str] | None:
    """Subject or object replaced by a hyponym (more specific: not entailed)."""
    s = g.scene()
    if s.obj and g.coin(0.5):
        p = replace(s, obj=g.pick(_ancestors(s.obj)))
    else:
        p = replace(s, noun=g.pick(_ancestors(s.noun)))
    neg = g.coin(0.15)
    return g.drop_some(replace(p, neg=neg)).text(), replace(s, neg=neg).text()


def n_compatible_action(g: _Gen) -> tuple[str, str] | None:
    """A different action that can happen at the same time."""
    s = g.scene(obj=False)
    others = [b if a == s.action else a for a, b in COMPATIBLE_ACTIONS if s.action in (a, b)]
    others = [o for o in others if o in ACTIONS[s.cls]]
    if not others:
        return None
    return s.text(), replace(s, action=g.pick(others), adverb=None).text()


def n_swap(g: _Gen) -> tuple[str, str] | None:
    """HANS subject/object swap: every word reused, not entailed."""
    a, b = g.rng.choice(len(ROLES), size=2, replace=False)
    past, part, _ = VERBS[int(g.rng.integers(len(VERBS)))]
    x, y = ROLES[a], ROLES[b]
    if g.coin(0.5):
        return f"The {x} {past} the {y}.", f"The {y} {past} the {x}."
    return f"The {x} {past} the {y}.", f"The {x} was {part} by the {y}."


def n_state_other(g: _Gen) -> tuple[str, str] | None:
    """Another, independent state of the same thing; or ``not full`` vs ``empty`` (contraries)."""
    thing = g.pick(tuple(STATES))
    dims = STATES[thing]
    contrary = [d for d in dims if d not in COMPLEMENTARY]
    if contrary and g.coin(0.4):
        pair = contrary[int(g.rng.integers(len(contrary)))]
        i = int(g.rng.integers(2))
        return f"The {thing} is not {pair[i]}.", f"The {thing} is {pair[1 - i]}."
    if len(dims) < 2:
        return (
            f"The {thing} is {g.pick(dims[0])}.",
            f"The {g.pick(COLOURS)} {thing} is {g.pick(dims[0])}.",
        )
    i, j = g.rng.choice(len(dims), size=2, replace=False)
    return f"The {thing} is {g.pick(dims[int(i)])}.", f"The {thing} is {g.pick(dims[int(j)])}."


def n_trans_add(g: _Gen) -> tuple[str, str] | None:
    """An adjective added to a HANS-style transitive sentence."""
    a, b = g.rng.choice(len(ROLES), size=2, replace=False)
    past = VERBS[int(g.rng.integers(len(VERBS)))][0]
    adj = g.pick(ROLE_ADJECTIVES)
    if g.coin(0.5):
        return (
            f"The {ROLES[a]} {past} the {ROLES[b]}.",
            f"The {adj} {ROLES[a]} {past} the {ROLES[b]}.",
        )
    return f"The {ROLES[a]} {past} the {ROLES[b]}.", f"The {ROLES[a]} {past} the {adj} {ROLES[b]}."


# -- contradiction -----------------------------------------------------------------------
def c_negation(g: _Gen) -> tuple[str, str] | None:
    """The same event negated (possibly with a hypernym subject, in either direction)."""
    s = g.scene()
    h = replace(s, neg=True)
    if g.coin(0.3):
        h = replace(h, noun=g.pick(_ancestors(s.noun)))
    h = g.drop_some(h)
    return (s.text(), h.text()) if g.coin(0.6) else (h.text(), s.text())


def c_co_hyponym(g: _Gen) -> tuple[str, str] | None:
    """Subject or object replaced by an exclusive sibling (poodle -> beagle, violin -> guitar)."""
    s = g.scene()
    if s.obj and g.coin(0.5):
        return s.text(), replace(s, obj=g.pick(_co_hyponyms(s.obj))).text()
    others = _co_hyponyms(s.noun)
    if not others:
        return None
    return s.text(), g.drop_some(replace(s, noun=g.pick(others))).text()


def c_exclusive_action(g: _Gen) -> tuple[str, str] | None:
    """An action that cannot happen together with the premise's."""
    s = g.scene(obj=False)
    others = [a for a in ACTIONS[s.cls] if _exclusive(s.action, a, EXCLUSIVE_ACTIONS)]
    if not others:
        return None
    return s.text(), g.drop_some(replace(s, action=g.pick(others), adverb=None)).text()


def c_antonym_modifier(g: _Gen) -> tuple[str, str] | None:
    """An adjective or adverb replaced by an antonym, a colour by another, a place by another."""
    s = g.with_modifier(g.scene(mods=0.7))
    slots = [
        m
        for m in ("adj", "adverb")
        if getattr(s, m) and (_antonym(getattr(s, m)) or getattr(s, m) in COLOURS)
    ]
    if s.loc:
        slots.append("loc")
    if not slots:
        return None
    slot = g.pick(slots)
    value = getattr(s, slot)
    if slot == "loc":
        new = g.pick([x for x in LOCATIONS if x != value])
    elif value in COLOURS:
        new = g.pick([c for c in ADJECTIVES[s.cls] if c in COLOURS and c != value])
    else:
        new = g.pick(_antonym(value))
    changes: dict[str, Any] = {slot: new}
    return s.text(), replace(s, **changes).text()


def c_state(g: _Gen) -> tuple[str, str] | None:
    """A state replaced by its antonym, or negated."""
    thing = g.pick(tuple(STATES))
    pair = STATES[thing][int(g.rng.integers(len(STATES[thing])))]
    i = int(g.rng.integers(2))
    if g.coin(0.5):
        return f"The {thing} is {pair[i]}.", f"The {thing} is {pair[1 - i]}."
    p, h = f"The {thing} is {pair[i]}.", f"The {thing} is not {pair[i]}."
    return (p, h) if g.coin(0.5) else (h, p)


def c_trans_negation(g: _Gen) -> tuple[str, str] | None:
    """HANS-style sentence negated, in the active or the passive."""
    a, b = g.rng.choice(len(ROLES), size=2, replace=False)
    past, part, base = VERBS[int(g.rng.integers(len(VERBS)))]
    x, y = ROLES[a], ROLES[b]
    if g.coin(0.5):
        return f"The {x} {past} the {y}.", f"The {x} did not {base} the {y}."
    return f"The {x} {past} the {y}.", f"The {y} was not {part} by the {x}."


CONSTRUCTIONS: dict[str, tuple[Construction, ...]] = {
    "entailment": (
        e_hypernym,
        e_hypernym,
        e_drop_modifier,
        e_synonym,
        e_exclusive_negated,
        e_passive,
        e_state_antonym_negated,
        e_state_drop,
    ),
    "neutral": (
        n_add_modifier,
        n_add_modifier,
        n_hyponym,
        n_hyponym,
        n_compatible_action,
        n_swap,
        n_state_other,
        n_trans_add,
    ),
    "contradiction": (
        c_negation,
        c_co_hyponym,
        c_co_hyponym,
        c_exclusive_action,
        c_antonym_modifier,
        c_state,
        c_trans_negation,
    ),
}


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
