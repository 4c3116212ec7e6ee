"""Certificates: exported obligations are re-checked by cvc5 and z3, and tampering with a
certificate or the model is caught."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import pytest

from checker import audit
from checker.certify import FORMAT, Exporter, obligations, recheck, smt2
from checker.engines.base import Budget
from checker.engines.bmc import Unroller
from checker.engines.houdini import houdini
from checker.engines.kind import k_induction
from checker.lang.loader import load_model
from checker.options import DEFAULT_BUDGET
from checker.results import Verdict
from checker.run.gate import RECORD_FORMAT, param_text, record_path
from checker.run.gate import check as gate_check
from checker.run.seal import KeyFileError, key_path, load_key, seal, seal_problem
from checker.smt.system import TransitionSystem
from tests.conftest import BAD_MODELS, ROOT, V1_MODELS, run_cli
from tests.test_run import synth_for

PERP = V1_MODELS / "perp_market_maker.yaml"
CARRY = V1_MODELS / "cash_and_carry_basis.yaml"
BOOKS = ROOT / "models" / "cash_and_carry_basis.yaml"  # version 2: two books


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
    rebuilt = [ob for ob in report["obligations"] if ob["path"].endswith("(rebuilt)")]
    assert len(report["obligations"]) - len(rebuilt) == 21  # the files
    assert len(rebuilt) == 7 * 5  # per invariant: 2 of the type domain, 3 of its own
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
    assert all(c.ok for c in checks)
    assert problems == [  # the model is proved when every limit is: this one is not enough
        f"{PERP}: the certificate {tmp_path} has no proof of position_limit, worst_case_long, "
        "worst_case_short for this content and these params"
    ]
    files = [c for c in checks if not c.path.endswith("(rebuilt)")]
    assert len(files) == len(obs)
    rebuilt = {c.obligation for c in checks if c.path.endswith("(rebuilt)")}
    assert {"lemmas-initiation", "lemmas-consecution", "step", "base-0"} <= rebuilt
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (entry,) = manifest["proofs"]
    assert entry["claim"]["kind"] == "k-induction" and entry["claim"]["k"] == outcome.k
    assert "cur.open_bid" in entry["claim"]["lemmas"]
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
    admitted = json.loads(run.out)["admitted_by"]
    assert admitted == (
        f"certificate {root / 'proofs'} (20 obligations re-checked against the model "
        "by z3 and cvc5)"
    )
    target = next((root / "proofs").glob("perp-market-maker-*/loss_bounded/safety.smt2"))
    target.write_text(target.read_text() + "; edited\n")
    refused = run_cli(*args)
    assert refused.code == 3
    assert "the certificate" in refused.err
    assert "loss_bounded/safety: file missing or altered" in refused.err
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


# -- forged proofs: the gate and recheck check the claim against the model itself ---------


def forge(folder: Path, model_file: Path, claim: dict[str, object] | None) -> Path:
    """A certificate for the model at ``model_file`` written by hand: every obligation
    file is `(assert false)` (unsat under any solver), listed with its right hash."""
    m = load_model(model_file)
    entries = []
    for lim in m.limits:
        (folder / lim.name).mkdir(parents=True)
        path = folder / lim.name / "safety.smt2"
        path.write_text("(assert false)\n(check-sat)\n")
        ob = {"obligation": "safety", "path": f"{lim.name}/safety.smt2", "expected": "unsat",
              "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}  # fmt: skip
        entries.append(
            {
                "file": str(model_file.resolve()),
                "strategy": m.strategy,
                "limit": lim.name,
                "model_sha256": m.source_sha256,
                "params": param_text(m.params),
                "engine": "spacer",
                "k": None,
                "seconds": 0.0,
                "claim": claim,
                "obligations": [ob],
            }
        )
    (folder / "manifest.json").write_text(json.dumps({"format": FORMAT, "proofs": entries}))
    return folder


def test_a_certificate_of_assert_false_obligations_for_a_refuted_model_is_refused(
    tmp_path: Path,
) -> None:
    """Regression: the gate checked obligation files only against the hashes of their
    own manifest, so `(assert false)` files under the hash of a refuted model admitted
    it. Now the claim is checked against the model rebuilt from its file."""
    refuted = tmp_path / "refuted.yaml"
    refuted.write_text((BAD_MODELS / "refuted_initial.yaml").read_text())
    m = load_model(refuted)
    bare = forge(tmp_path / "bare", refuted, None)
    files_only, _ = recheck(bare, models=[m])
    assert any(c.ok and not c.path.endswith("(rebuilt)") for c in files_only)  # the files hold
    decision = gate_check(m, bare)
    assert not decision.admitted and "position_limit/claim (no claim" in decision.reason
    forged = forge(tmp_path / "forged", refuted, {"kind": "invariant", "invariant": "true"})
    decision = gate_check(m, forged)
    assert not decision.admitted and "position_limit/safety not re-proved" in decision.reason
    for folder in (bare, forged):
        refused = run_cli("run", str(refuted), "--data", str(tmp_path / "never-read.csv"),
                          "--no-journal", "--no-plot", "--proofs", str(folder))  # fmt: skip
        assert refused.code == 3 and "refused" in refused.err and "not re-proved" in refused.err
        run = run_cli("recheck", "--json", str(folder), "--model", str(refuted))
        assert run.code == 1 and not json.loads(run.out)["ok"]
        assert run_cli("recheck", str(folder)).code == 1  # the recorded model, by default


def test_obligations_relabelled_with_another_models_hash_are_refused(
    certificate: Path, tmp_path: Path
) -> None:
    """Regression: the perp market maker's genuine obligations, relabelled with the hash
    of a variant that breaks its limits at tick 0, admitted the variant."""
    root = copy_of(certificate, tmp_path)
    variant = root / "variant.yaml"
    variant.write_text(
        (root / PERP.name)
        .read_text()
        .replace("position: {type: int, init: 0}", "position: {type: int, init: 150}")
    )
    other = load_model(variant)
    manifest = root / "proofs" / "manifest.json"
    data = json.loads(manifest.read_text())
    for proof in data["proofs"]:
        if proof["strategy"] == "perp-market-maker":
            proof.update(file=str(variant), model_sha256=other.source_sha256)
    manifest.write_text(json.dumps(data))
    decision = gate_check(other, root / "proofs")
    assert not decision.admitted
    assert "position_limit/initiation" in decision.reason and "not re-proved" in decision.reason
    run = run_cli("recheck", "--json", str(root / "proofs"), "--model", str(variant))
    assert run.code == 1
    bad = {(o["limit"], o["obligation"]) for o in json.loads(run.out)["obligations"] if not o["ok"]}
    assert ("position_limit", "initiation") in bad
    assert run_cli("recheck", str(root / "proofs")).code == 1


def test_a_certificate_whose_invariant_is_false_is_refused(
    certificate: Path, tmp_path: Path
) -> None:
    """The claim is the only thing taken from a certificate: a false one (the limit
    alone, which is not inductive) is refused however consistent the files are."""
    root = copy_of(certificate, tmp_path)
    manifest = root / "proofs" / "manifest.json"
    data = json.loads(manifest.read_text())
    for proof in data["proofs"]:
        if proof["limit"] == "position_limit":
            limit_alone = "(<= (ite (>= cur.position 0) cur.position (- cur.position)) 100)"
            proof["claim"] = {"kind": "invariant", "invariant": limit_alone}
    manifest.write_text(json.dumps(data))
    model = load_model(root / PERP.name)
    decision = gate_check(model, root / "proofs")
    assert not decision.admitted and "position_limit/consecution not re-proved" in decision.reason
    run = run_cli("recheck", "--json", str(root / "proofs"), "--model", str(root / PERP.name))
    assert run.code == 1
    bad = [o for o in json.loads(run.out)["obligations"] if not o["ok"]]
    assert [(o["limit"], o["obligation"], o["answers"]) for o in bad] == [
        ("position_limit", "consecution", {"z3": "sat"})
    ]
    data["proofs"][0]["claim"] = {"kind": "k-induction", "k": 0, "lemmas": None}
    manifest.write_text(json.dumps(data))
    assert "malformed claim" in gate_check(model, root / "proofs").reason


def test_the_genuine_certificate_is_still_admitted_by_the_gate_and_recheck(
    certificate: Path, tmp_path: Path
) -> None:
    root = copy_of(certificate, tmp_path)
    for source in (PERP, CARRY):
        model = load_model(root / source.name)
        assert gate_check(model, root / "proofs").admitted
        run = run_cli("recheck", str(root / "proofs"), "--model", str(root / source.name))
        assert run.code == 0, run.out


def test_a_hand_written_proof_record_is_refused(certificate: Path, tmp_path: Path) -> None:
    """Regression: a record of four fields written by hand admitted a refuted model.
    A record now needs the seal (HMAC-SHA256) of the installation that verified it."""
    root = copy_of(certificate, tmp_path)
    records = root / "records"
    perp = load_model(root / PERP.name)
    assert gate_check(perp, records).admitted  # the genuine record, sealed by verify
    refuted = load_model(BAD_MODELS / "refuted_initial.yaml")
    hand = {"format": RECORD_FORMAT, "sha256": refuted.source_sha256,
            "params": param_text(refuted.params),
            "limits": [{"name": "position_limit", "verdict": "proved"}]}  # fmt: skip
    record_path(refuted, records).write_text(json.dumps(hand))
    decision = gate_check(refuted, records)
    assert not decision.admitted and "has no seal" in decision.reason
    refused = run_cli("run", str(BAD_MODELS / "refuted_initial.yaml"), "--data",
                      str(tmp_path / "never-read.csv"), "--no-journal", "--no-plot",
                      "--proofs", str(records))  # fmt: skip
    assert refused.code == 3 and "is refused: it has no seal" in refused.err
    hand["mac"] = "0" * 64
    record_path(refuted, records).write_text(json.dumps(hand))
    assert "seal is not valid" in gate_check(refuted, records).reason
    genuine = json.loads(record_path(perp, records).read_text())
    genuine["proved_at"] = "2020-01-01T00:00:00+00:00"
    record_path(perp, records).write_text(json.dumps(genuine))
    assert "seal is not valid" in gate_check(perp, records).reason


def test_a_record_sealed_by_another_installation_is_refused(
    certificate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_of(certificate, tmp_path)
    perp = load_model(root / PERP.name)
    monkeypatch.setenv("SEQPROVE_KEY_FILE", str(tmp_path / "other" / "key"))
    decision = gate_check(perp, root / "records")
    assert not decision.admitted and "has no key" in decision.reason
    seal({"made": "the other key"})
    decision = gate_check(perp, root / "records")
    assert not decision.admitted and "seal is not valid" in decision.reason


def test_the_key_is_private_and_a_key_open_to_others_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "cfg" / "seqprove" / "key"
    monkeypatch.delenv("SEQPROVE_KEY_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert key_path() == key and load_key(create=False) is None
    record = seal({"a": 1})
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and seal_problem(record) is None
    key.chmod(0o644)
    assert "open to other users" in str(seal_problem(record))
    with pytest.raises(KeyFileError, match="open to other users"):
        seal({"a": 1})


def test_an_undecided_recheck_is_refused_with_its_reason(
    certificate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim z3 cannot decide within its resource limit is not admitted, and the
    reason says it was undecided (not refuted)."""
    root = copy_of(certificate, tmp_path)
    monkeypatch.setattr(audit.check, "__defaults__", (1, audit.WALL_SECONDS, None))
    decision = gate_check(load_model(root / PERP.name), root / "proofs")
    assert not decision.admitted and "undecided: z3 answered unknown" in decision.reason


def test_a_malformed_manifest_fails_without_a_crash(tmp_path: Path) -> None:
    """Forged manifests of odd shapes are failures of the certificate (exit 1), never
    an internal error."""
    refuted = tmp_path / "refuted.yaml"
    refuted.write_text((BAD_MODELS / "refuted_initial.yaml").read_text())
    m = load_model(refuted)
    entry = {"model_sha256": m.source_sha256, "params": param_text(m.params),
             "limit": "position_limit", "obligations": ["x", 3]}  # fmt: skip
    for proofs in ({"not": "a list"}, [1, 2], [{}], [entry]):
        folder = tmp_path / f"m{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps({"format": FORMAT, "proofs": proofs}))
        assert run_cli("recheck", str(folder)).code == 1
        assert run_cli("recheck", str(folder), "--model", str(refuted)).code == 1
        assert not gate_check(m, folder).admitted


def test_a_certificate_of_a_model_with_instruments_is_rechecked_by_cvc5_and_z3(
    tmp_path: Path,
) -> None:
    """Version 2: every limit, order check and check of a two-book model gets its
    obligations, and both solvers re-check them (the files, and the claims against the
    model rebuilt by the independent encoding, which keeps its own book)."""
    shutil.copy(BOOKS, tmp_path / BOOKS.name)
    out = tmp_path / "proofs"
    run = run_cli("verify", "--proofs", str(tmp_path / "records"), "--export", str(out),
                  str(tmp_path / BOOKS.name))  # fmt: skip
    assert run.code == 0, run.out + run.err
    manifest = json.loads((out / "manifest.json").read_text())
    names = {p["limit"] for p in manifest["proofs"]}
    assert {"leg_imbalance", "one_way", "final-step-orders"} <= names
    assert any(n.startswith("positive_qty:") for n in names)
    checked = run_cli("recheck", "--json", str(out))
    assert checked.code == 0, checked.out
    report = json.loads(checked.out)
    assert report["ok"] and not report["problems"]
    rebuilt = [ob for ob in report["obligations"] if ob["path"].endswith("(rebuilt)")]
    assert {ob["limit"] for ob in rebuilt} == names  # every claim against the model too
    for ob in report["obligations"]:
        assert ob["answers"] == {"cvc5": "unsat", "z3": "unsat"}
