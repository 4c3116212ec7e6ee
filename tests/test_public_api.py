"""The package's public face stays small and importable."""

from __future__ import annotations

import checker


def test_all_is_exactly_the_public_face() -> None:
    assert sorted(checker.__all__) == [
        "ModelError",
        "Options",
        "Report",
        "SeqproveError",
        "Verdict",
        "__version__",
        "load_model",
        "verify_model",
        "verify_paths",
    ]
    for name in checker.__all__:
        assert hasattr(checker, name)
