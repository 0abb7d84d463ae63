"""Type stubs of mukarrar's native module (re-exported by the `mukarrar` package)."""

import os
from collections.abc import Iterable, Iterator
from typing import Any, Literal, Optional, Union, final, overload, type_check_only

from typing_extensions import Self, TypedDict, Unpack

__all__ = [
    "SETTINGS",
    "Change",
    "Cluster",
    "Clusters",
    "Decision",
    "Error",
    "Filter",
    "Index",
    "IndexFileError",
    "InputError",
    "LshParams",
    "Member",
    "Signature",
    "__version__",
    "cluster",
    "normalize",
    "params",
    "sign",
]

__version__: str
SETTINGS: list[str]
"""The names of the settings keyword arguments, in the order of `mukarrar cluster --help`."""

_Profile = Literal["default", "light", "none"]
_Id = Union[str, int]
_StrPath = Union[str, "os.PathLike[str]"]

@type_check_only
class _Settings(TypedDict, total=False):
    """Every setting, named as its command-line flag, with the command line's defaults."""

    normalize: _Profile
    """Normalization profile (default "default")."""
    shingle: Literal["word", "char"]
    """Shingles of words or of characters (default "word")."""
    ngram: Optional[int]
    """Shingle size (default: 3 for words, 5 for characters)."""
    keep_title_tags: bool
    """Keep title tags such as `عاجل |` and `- واس` (default False)."""
    short_words: int
    """Texts of fewer words are short, compared by their words (default 25; 0: none)."""
    short_threshold: float
    """Similarity two short texts must reach (default 0.75)."""
    ignore_numbers: bool
    """Compare short texts even when their numbers differ (default False)."""
    short_run_words: int
    """A shared run of this many words makes short texts duplicates (default 7; 0: off)."""
    cross_words: int
    """Opening words every text keeps for cross-length matching: a headline or teaser with its
    article (default 30; 0: off)."""
    cross_containment: float
    """Share of the shorter lead that the other lead must hold (default 0.8)."""
    lead_words: int
    """Opening words of a long text whose shingles are weighted (default 60; 0: off)."""
    boilerplate_df: int
    """Leave out lines found in this many documents (default 0: off; cluster only)."""
    lead_weight: int
    """How many times each lead shingle counts (default 3)."""
    num_perm: int
    """Signature length (default 128)."""
    word_sketch: int
    """Slots of the word sketch that ends a long text's signature (default 64; 0: no word
    check)."""
    seed: int
    """Seed of the shingle hash and the permutations (default 1)."""
    threshold: float
    """Similarity two long texts must reach (default 0.3)."""
    word_low: float
    """Similarity from which long texts below the threshold are compared by their words
    (default 0.2)."""
    word_threshold: float
    """Word-set similarity that makes two such long texts duplicates (default 0.55)."""
    lsh_objective: Literal["area", "recall"]
    """How bands × rows are chosen (default "area")."""
    bands: Optional[int]
    """LSH bands (overrides the objective)."""
    rows: Optional[int]
    """Rows per band (overrides the objective)."""
    measure: Literal["jaccard", "containment"]
    """What the thresholds apply to (default "jaccard")."""
    verify: Literal["estimate", "exact"]
    """How candidate pairs are verified (default "estimate")."""
    linkage: Literal["single", "representative"]
    """How verified pairs form clusters (default "single")."""
    representative: Literal["first", "longest"]
    """Which member represents a cluster (default "first")."""

class Error(Exception):
    """Base class of the errors mukarrar raises (besides ValueError for bad settings)."""

class InputError(Error):
    """A text or id that cannot be used, or an input that cannot be read."""

class IndexFileError(Error):
    """An index file that cannot be used as asked; the message says what to do."""

@final
class Change:
    """One change made to a text before shingling (`mukarrar normalize --explain`)."""

    @property
    def rule(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def before(self) -> str: ...
    @property
    def after(self) -> str: ...

@overload
def normalize(
    text: str, profile: _Profile = "default", explain: Literal[False] = False, keep_title_tags: bool = False
) -> str: ...
@overload
def normalize(
    text: str, profile: _Profile, explain: Literal[True], keep_title_tags: bool = False
) -> tuple[str, list[Change]]: ...
@overload
def normalize(
    text: str, profile: _Profile = "default", *, explain: Literal[True], keep_title_tags: bool = False
) -> tuple[str, list[Change]]: ...

@final
class Signature:
    """A signed text: what `mukarrar sign --with-signature` writes for one document."""

    @property
    def minhash(self) -> list[int]: ...
    @property
    def word_sketch(self) -> list[int]: ...
    @property
    def band_keys(self) -> list[int]: ...
    @property
    def shingles(self) -> int: ...
    @property
    def short(self) -> bool: ...
    @property
    def empty(self) -> bool: ...
    @property
    def numbers(self) -> int: ...
    @property
    def words(self) -> list[int]: ...

def sign(text: str, **settings: Unpack[_Settings]) -> Signature:
    """Normalizes, shingles and signs one text, as every mukarrar command signs it."""

@final
class LshParams:
    """LSH bands × rows for a threshold, and their S-curve (`mukarrar params`)."""

    @property
    def bands(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def threshold(self) -> float: ...
    @property
    def num_perm(self) -> int: ...
    @property
    def false_positive_area(self) -> float: ...
    @property
    def false_negative_area(self) -> float: ...
    def probability(self, s: float) -> float:
        """P(candidate | Jaccard similarity s) = 1 − (1 − sʳ)ᵇ."""

def params(
    threshold: float = 0.3,
    num_perm: int = 128,
    lsh_objective: Literal["area", "recall"] = "area",
    bands: Optional[int] = None,
    rows: Optional[int] = None,
) -> LshParams:
    """The LSH bands × rows chosen for a threshold, or given."""

@final
class Member:
    """One document of a cluster."""

    @property
    def id(self) -> Any:
        """The caller's id object (its position when no ids were given)."""
    @property
    def index(self) -> Optional[int]:
        """Its position in the texts clustered (None in an index export)."""
    @property
    def similarity(self) -> float: ...
    @property
    def is_representative(self) -> bool: ...

@final
class Cluster:
    """A group of near-duplicate documents."""

    @property
    def id(self) -> int:
        """The position of its first document, as `mukarrar cluster` numbers clusters."""
    @property
    def representative(self) -> Any: ...
    @property
    def members(self) -> list[Member]: ...
    @property
    def size(self) -> int: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Member]: ...

@final
class Clusters:
    """Clusters of two or more near-duplicate documents, ordered by id."""

    @property
    def groups(self) -> list[Cluster]: ...
    @property
    def stats(self) -> dict[str, Any]:
        """The run's counts, as `mukarrar cluster --format json` reports them."""
    @property
    def params(self) -> dict[str, Any]:
        """The settings of the run, as `mukarrar cluster --format json` reports them."""
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Cluster]: ...
    def __getitem__(self, key: int, /) -> Cluster: ...
    def labels(self) -> list[int]:
        """Each text's cluster id (a text in no cluster: its own position)."""
    def keep(self) -> list[bool]:
        """True for the texts to keep when removing duplicates."""
    def to_pandas(self) -> Any:
        """One row per member: cluster_id, doc_id, index, similarity, is_representative."""
    def to_arrow(self) -> Any:
        """The rows of to_pandas() as a pyarrow Table."""

def cluster(
    texts: Iterable[str],
    ids: Optional[Iterable[_Id]] = None,
    *,
    skip_invalid: bool = False,
    memory_limit: Optional[int] = None,
    temp_dir: Optional[_StrPath] = None,
    **settings: Unpack[_Settings],
) -> Clusters:
    """Clusters near-duplicate texts, as `mukarrar cluster` does."""

@final
class Decision:
    """The decision about one document of a feed."""

    @property
    def is_duplicate(self) -> bool: ...
    @property
    def duplicate_of(self) -> Optional[str]: ...
    @property
    def cluster_id(self) -> int: ...
    @property
    def similarity(self) -> Optional[float]: ...
    @property
    def position(self) -> int: ...
    @property
    def duplicate_position(self) -> Optional[int]: ...
    @property
    def in_index(self) -> bool: ...
    def __bool__(self) -> bool: ...

@final
class Filter:
    """The streaming filter: each document checked against the earlier ones."""

    def __new__(
        cls,
        window: int = 100000,
        db: Optional[_StrPath] = None,
        add: bool = False,
        batch_size: int = 1000,
        *,
        memory_limit: Optional[int] = None,
        temp_dir: Optional[_StrPath] = None,
        **settings: Unpack[_Settings],
    ) -> Self: ...
    def check(self, text: str, id: Optional[_Id] = None) -> Decision:
        """Decides about the next document."""
    def check_many(self, texts: Iterable[str], ids: Optional[Iterable[_Id]] = None) -> list[Decision]:
        """Decides about a batch of documents in order (signed in parallel)."""
    def commit(self) -> None:
        """Commits the documents stored since the last commit (with add=True)."""
    def close(self) -> None:
        """Commits and closes the index; the filter cannot be used afterwards."""
    @property
    def settings(self) -> dict[str, Any]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class Index:
    """A persistent, incremental index: the file `mukarrar index` uses."""

    def __new__(cls, path: _StrPath, readonly: bool = False) -> Self: ...
    @staticmethod
    def create(path: _StrPath, **settings: Unpack[_Settings]) -> Index:
        """Creates a new index with the settings given, fixed for its life."""
    def add(
        self,
        texts: Iterable[str],
        ids: Iterable[_Id],
        *,
        batch_size: Optional[int] = None,
        on_duplicate: Literal["skip", "replace", "error"] = "skip",
        first_seen: Optional[str] = None,
        skip_invalid: bool = False,
        include_singletons: bool = False,
    ) -> dict[str, Any]:
        """Adds documents; the report of `mukarrar index add --format json`."""
    def query(
        self,
        texts: Iterable[str],
        ids: Iterable[_Id],
        *,
        skip_invalid: bool = False,
        include_singletons: bool = False,
    ) -> dict[str, Any]:
        """What adding would do, without changing the index."""
    def remove(self, ids: Optional[list[str]] = None, *, before: Optional[str] = None) -> dict[str, Any]:
        """Removes documents by id, or those first seen before a date."""
    def export(self, include_singletons: bool = False) -> Clusters:
        """Every cluster in the index."""
    def stats(self) -> dict[str, Any]:
        """Counts and facts, as `mukarrar index stats --format json` gives them."""
    @property
    def settings(self) -> dict[str, Any]: ...
    @property
    def path(self) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...
