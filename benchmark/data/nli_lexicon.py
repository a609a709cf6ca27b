"""The synthetic NLI data set's lexicon: words, their lexical relations (hypernyms,
co-hyponyms, antonyms, synonyms, exclusive and compatible actions) and lookups over them.

Hand-written; :mod:`benchmark.data.nli_scenes` builds sentence pairs from it. Any change
here changes the data: bump :data:`benchmark.data.nli_generator.GENERATOR_VERSION`.
"""

from __future__ import annotations

from collections.abc import Sequence

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
