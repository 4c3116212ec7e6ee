"""Certificates: exported obligations are re-checked by cvc5 and z3, and tampering with a
certificate or the model is caught."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from checker.certify import Exporter, obligations, recheck, smt2
from checker.engines.base import Budget
from checker.engines.bmc import Unroller
from checker.engines.houdini import houdini
from checker.engines.kind import k_induction
from checker.lang.loader import load_model
from checker.options import DEFAULT_BUDGET
from checker.results import Verdict
from checker.smt.system import TransitionSystem
from tests.conftest import ROOT, run_cli
from tests.test_run import synth_for

PERP = ROOT / "models" / "perp_market_maker.yaml"
CARRY = ROOT / "models" / "cash_and_carry_basis.yaml"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The perp market maker and the cash-and-carry model, verified and exported once."""
    root = tmp_path_factory.mktemp("cert")
    for source in (PERP, CARRY):
        shutil.copy(source, root / source.name)
    out = root / "proofs"
    run = run_cli("verify", "--proofs", str(root / "records"), "--export", str(out),
                  str(root / PERP.name), str(root / CARRY.name))  # fmt: skip
    assert run.code == 0, run.out + run.err
    assert "certificates: 21 obligation(s) for 7 proved limit(s)" in run.err
    return root


def copy_of(certificate: Path, tmp_path: Path) -> Path:
    shutil.copytree(certificate, tmp_path / "c")
    manifest = tmp_path / "c" / "proofs" / "manifest.json"
    data = json.loads(manifest.read_text())
    for proof in data["proofs"]:  # point the copy at its own copy of the models
        proof["file"] = str(tmp_path / "c" / Path(proof["file"]).name)
    manifest.write_text(json.dumps(data))
    return tmp_path / "c"


def test_every_obligation_holds_under_cvc5_and_z3(certificate: Path) -> None:
    run = run_cli("recheck", "--json", str(certificate / "proofs"))
    assert run.code == 0, run.out
    report = json.loads(run.out)
    assert report["ok"] and not report["problems"]
    assert len(report["obligations"]) == 21
    for ob in report["obligations"]:
        assert ob["answers"] == {"cvc5": "unsat", "z3": "unsat"}
    manifest = json.loads((certificate / "proofs" / "manifest.json").read_text())
    assert {p["limit"] for p in manifest["proofs"]} >= {"position_limit", "leg_imbalance"}
    assert all(len(p["model_sha256"]) == 64 and p["params"] for p in manifest["proofs"])
    assert manifest["z3"] and manifest["cvc5"] and manifest["seqprove"]


def test_an_altered_obligation_file_is_caught(certificate: Path, tmp_path: Path) -> None:
    root = copy_of(certificate, tmp_path)
    target = next((root / "proofs").glob("perp-market-maker-*/position_limit/safety.smt2"))
    target.write_text(target.read_text().replace("(>= 100", "(>= 1000", 1))
    run = run_cli("recheck", str(root / "proofs"))
    assert run.code == 1
    assert "FAILED file altered" in run.out


def test_a_weakened_obligation_is_caught_even_with_a_matching_hash(
    certificate: Path, tmp_path: Path
) -> None:
    """Someone edits the invariant to a false one and fixes the manifest's hash: the
    solvers find the obligation false."""
    root = copy_of(certificate, tmp_path)
    target = next((root / "proofs").glob("perp-market-maker-*/position_limit/consecution.smt2"))
    text = target.read_text()
    assert "(define-fun Inv () Bool" in text
    target.write_text(text.replace("(>= 100 (+ cur.open_bid cur.position))", "true", 1))
    manifest = root / "proofs" / "manifest.json"
    data = json.loads(manifest.read_text())
    for proof in data["proofs"]:
        for ob in proof["obligations"]:
            if (root / "proofs" / ob["path"]) == target:
                ob["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(data))
    run = run_cli("recheck", "--json", str(root / "proofs"))
    assert run.code == 1
    bad = [o for o in json.loads(run.out)["obligations"] if not o["ok"]]
    assert [(o["limit"], o["obligation"]) for o in bad] == [("position_limit", "consecution")]
    assert bad[0]["answers"] == {"cvc5": "sat", "z3": "sat"}


def test_a_model_edited_since_is_caught(certificate: Path, tmp_path: Path) -> None:
    root = copy_of(certificate, tmp_path)
    model = root / PERP.name
    model.write_text(model.read_text().replace("hedge_size: 20", "hedge_size: 30"))
    checks, problems = recheck(root / "proofs")
    assert all(c.ok for c in checks)  # the obligations still hold: they are of the old model
    assert any("the model changed since this certificate was made" in p for p in problems)
    assert run_cli("recheck", str(root / "proofs")).code == 1


def test_no_certificate_is_bad_input(tmp_path: Path) -> None:
    run = run_cli("recheck", str(tmp_path))
    assert run.code == 3 and "no certificate" in run.err


def test_k_induction_with_lemmas_exports_the_lemmas_obligations(tmp_path: Path) -> None:
    model = load_model(PERP)
    system = TransitionSystem(model)
    lemmas = houdini(system, Budget(system.meter, DEFAULT_BUDGET, 20)).conjunction(system)
    prop = system.limits["loss_bounded"]
    outcome = k_induction(
        system,
        Unroller(system),
        "loss_bounded",
        prop,
        range(2, 6),
        Budget(system.meter, DEFAULT_BUDGET, 20),
        lemmas,
    )
    assert outcome.verdict is Verdict.PROVED and outcome.k is not None and outcome.k >= 2
    obs = obligations(system, "loss_bounded", outcome, reads_inputs=False)
    names = [o.name for o in obs]
    assert names[:2] == ["lemmas-initiation", "lemmas-consecution"]
    assert names[-1] == "step" and [n for n in names if n.startswith("base-")]
    exporter = Exporter(tmp_path)
    exporter.add(system, model, "loss_bounded", "k-induction", outcome, False, 0.0)
    exporter.write()
    checks, problems = recheck(tmp_path)
    assert not problems and len(checks) == len(obs) and all(c.ok for c in checks)
    step = smt2(system, model, "loss_bounded", obs[-1])
    assert "(define-fun Lemmas0 () Bool" in step and "(assert (and " in step


def test_the_executor_gate_accepts_a_certificate(certificate: Path, tmp_path: Path) -> None:
    root = copy_of(certificate, tmp_path)
    model = load_model(root / PERP.name)
    data = synth_for(model, tmp_path / "calm.csv", "calm", 50, seed=1)
    args = ["run", str(root / PERP.name), "--data", str(data), "--no-journal", "--no-plot",
            "--json", "--proofs", str(root / "proofs")]  # fmt: skip
    run = run_cli(*args)
    assert run.code == 0, run.err
    assert json.loads(run.out)["admitted_by"].startswith(f"certificate {root / 'proofs'} (12 ")
    target = next((root / "proofs").glob("perp-market-maker-*/loss_bounded/safety.smt2"))
    target.write_text(target.read_text() + "; edited\n")
    refused = run_cli(*args)
    assert refused.code == 3
    assert "the certificate" in refused.err and "loss_bounded/safety not re-proved" in refused.err
    other = run_cli(*args, "--param", "max_loss=4000")
    assert other.code == 3 and "has no proof of position_limit" in other.err


def test_only_models_verify_admits_are_certified(tmp_path: Path) -> None:
    """A model with a structural error has proved limits, but verify exits 1 on it: its
    proofs are not exported, so no certificate can admit it to `seqprove run`."""
    bad = ROOT / "tests" / "models" / "bad" / "place_without_prover.yaml"
    out = tmp_path / "proofs"
    run = run_cli(
        "verify", "--export", str(out), "--proofs", str(tmp_path / "r"), str(bad), str(PERP)
    )
    assert run.code == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert {p["strategy"] for p in manifest["proofs"]} == {"perp-market-maker"}
    assert [d.name for d in out.iterdir() if d.is_dir()] == [
        next(d.name for d in out.iterdir() if d.name.startswith("perp-market-maker-"))
    ]
