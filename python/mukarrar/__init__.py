"""mukarrar: find near-duplicate Arabic texts and group them.

The same engine as the ``mukarrar`` command line, with the same settings (keyword arguments
named as its flags, with its defaults) and the same results::

    import mukarrar

    result = mukarrar.cluster(["نص أول", "نص اول", "نص آخر"])
    for cluster in result:
        print(cluster.id, [(m.id, m.similarity) for m in cluster.members])

- ``cluster(texts, ids=None, **settings)``: groups of near-duplicates (``Clusters``).
- ``Filter(window=100_000, db=None, add=False, **settings)``: a feed, one decision per text.
- ``Index(path)`` / ``Index.create(path, **settings)``: the persistent index of
  ``mukarrar index``.
- ``normalize(text)``, ``sign(text, **settings)``, ``params(threshold, num_perm)``.

``SETTINGS`` lists the setting names. Bad settings raise ``ValueError``; bad input raises
``InputError`` and unusable index files ``IndexFileError`` (both ``mukarrar.Error``). The
work runs with the GIL released, on all cores (``RAYON_NUM_THREADS`` limits them), and
Ctrl-C interrupts it.
"""

from ._mukarrar import *  # noqa: F403 (the native module's names are the package's)
from ._mukarrar import __all__, __version__  # noqa: F401
