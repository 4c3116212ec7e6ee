"""``seqprove data import``: market data in its published formats made into the standard
data file of ``seqprove run``.

- :mod:`~checker.ingest.binance`, :mod:`~checker.ingest.tardis`,
  :mod:`~checker.ingest.lean`, :mod:`~checker.ingest.ccxt`, :mod:`~checker.ingest.ohlcv`,
  :mod:`~checker.ingest.mapped`: one reader per format family, each giving a
  :class:`~checker.ingest.base.Source`; :mod:`~checker.ingest.detect` tells them apart;
- :mod:`~checker.ingest.quality`: duplicated times, times going back, crossed books, and
  the policy (``stop``, ``drop``, ``carry``);
- :mod:`~checker.ingest.books`: an instrument's book made from its sources, resampled;
- :mod:`~checker.ingest.join`: the instruments on one time axis, and its gaps;
- :mod:`~checker.ingest.units`: quantities converted to the model's contracts;
- :mod:`~checker.ingest.writer`: the file and its metadata, written atomically;
- :mod:`~checker.ingest.importer`: all of it, for the command.
"""

from checker.ingest.base import IngestError
from checker.ingest.detect import FORMATS
from checker.ingest.importer import DEFAULT_SPREAD_BPS, Request, Result, run_import
from checker.ingest.quality import POLICIES

__all__ = [
    "DEFAULT_SPREAD_BPS",
    "FORMATS",
    "POLICIES",
    "IngestError",
    "Request",
    "Result",
    "run_import",
]
