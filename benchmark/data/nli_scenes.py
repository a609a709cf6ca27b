"""Scenes of the synthetic NLI data set and the constructions that turn one into a
(premise, hypothesis) pair of a given label, from the lexicon of :mod:`benchmark.data.nli_lexicon`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from benchmark.data.nli_lexicon import (
    ACTIONS,
    ADJECTIVES,
    ADVERBS,
    AGENT_LEAVES,
    COLOURS,
    COMPATIBLE_ACTIONS,
    COMPLEMENTARY,
    EXCLUSIVE_ACTIONS,
    LOCATIONS,
    OBJECT_LEAVES,
    OBJECT_VERBS,
    ROLE_ADJECTIVES,
    ROLES,
    STATES,
    VERBS,
    _ancestors,
    _antonym,
    _co_hyponyms,
    _exclusive,
    _indef,
    _synonyms,
)


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
